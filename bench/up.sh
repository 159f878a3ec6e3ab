#!/usr/bin/env bash
# Wall time of berth's lifecycle on N `sleep` services, against the floor
# of a bare `runc run -d` of a busybox bundle measured in the same run.
# Usage: bench/up.sh BERTH_BINARY     (as root; apt-get install runc busybox-static)
# Prints one line per measurement and the ratio to the runc floor.
set -euo pipefail
berth=$1
command -v runc >/dev/null || { echo "bench needs runc for the floor: apt-get install runc" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUN_ROOT=$work/run BERTH_SUBNET_POOL=10.251.0.0/16
cleanup() {
	for d in "$work"/p*; do [ -d "$d" ] && (cd "$d" && "$berth" down -v -t 0 >/dev/null 2>&1 || true); done
	runc --root "$work/runc" delete -f bench-floor >/dev/null 2>&1 || true
	for d in /sys/fs/cgroup/*/"$cgroup"; do rmdir "$d" 2>/dev/null || true; done
	rm -rf "$work"
}
# berth's cgroup parent for a private root: "berth_" + 8 hex of sha256(root).
cgroup=berth_$(printf '%s' "$BERTH_ROOT" | sha256sum | cut -c1-8)
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.4f", b - a }'; }

# An image from the host's static busybox.
rootfs=$work/rootfs
mkdir -p "$rootfs"/bin "$rootfs"/etc "$rootfs"/proc "$rootfs"/dev "$rootfs"/sys "$rootfs"/tmp
cp /bin/busybox "$rootfs"/bin/
for a in sh sleep; do ln -s busybox "$rootfs/bin/$a"; done
tar -C "$rootfs" -cf "$work/busybox.tar" .
"$berth" image import "$work/busybox.tar" bench/busybox:1 >/dev/null

# The floor: runc run -d of the same root filesystem.
bundle=$work/bundle
mkdir -p "$bundle"
cp -a "$rootfs" "$bundle/rootfs"
(cd "$bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"sleep", "1000"/' config.json)
t=$(now); runc --root "$work/runc" run -d --bundle "$bundle" bench-floor >/dev/null 2>&1 </dev/null; floor=$(elapsed "$t")
runc --root "$work/runc" delete -f bench-floor >/dev/null

stack() { # stack DIR N: a project of N sleep services
	mkdir -p "$1"
	{
		echo "services:"
		for i in $(seq 1 "$2"); do
			printf '  s%d:\n    image: bench/busybox:1\n    command: ["sleep", "100000"]\n    environment: {V: "1"}\n' "$i"
		done
	} >"$1/compose.yaml"
}
measure() { # measure LABEL DIR ARGS...
	local label=$1 dir=$2; shift 2
	local t; t=$(now)
	(cd "$dir" && "$berth" "$@" >/dev/null)
	local s; s=$(elapsed "$t")
	printf '%-28s %7.3f s  %6.1fx runc\n' "$label" "$s" "$(awk -v s="$s" -v f="$floor" 'BEGIN { print s / f }')"
}

printf '%-28s %7.3f s\n' "runc run -d (floor)" "$floor"
for n in 1 10 50; do
	stack "$work/p$n" "$n"
	measure "up -d, $n services (cold)" "$work/p$n" up -d
done
measure "up -d, no-op (10)" "$work/p10" up -d
sed -i '0,/V: "1"/s//V: "2"/' "$work/p10/compose.yaml"
measure "recreate 1 of 10 (-t 0)" "$work/p10" up -d -t 0
measure "down -t 0, 10 services" "$work/p10" down -t 0
measure "down -t 0, 50 services" "$work/p50" down -t 0
measure "down -t 0, 1 service" "$work/p1" down -t 0
