#!/usr/bin/env bash
# Builds the hello example's images offline and imports them into berth:
# each is a busybox-static root filesystem plus one static Go program.
# Usage: build-images.sh BERTH_BINARY
set -euo pipefail
berth=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$here/build
mkdir -p "$out"
for svc in web counter; do
	root=$out/$svc-rootfs
	rm -rf "$root"
	mkdir -p "$root"/bin "$root"/etc "$root"/tmp "$root"/data
	chmod 1777 "$root"/tmp
	cp /bin/busybox "$root"/bin/busybox
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root"/etc/passwd
	printf 'root:x:0:\nnobody:x:65534:\n' >"$root"/etc/group
	(cd "$here/../.." && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$root/$svc" "./examples/hello/$svc")
	tar -C "$root" -cf "$out/$svc.tar" .
	"$berth" image import -c "CMD [\"/$svc\"]" "$out/$svc.tar" "berth-examples/hello-$svc:latest"
done
