#!/usr/bin/env bash
# Build speed of the issue's 6-step Dockerfile on a busybox base (ENV,
# WORKDIR, COPY of 200 small files, RUN writing 10 MB, COPY of one file,
# CMD), through package build's BenchmarkBuild (a library call: no CLI
# start-up): cold (--no-cache), fully cached, and after the last copied
# file changed, with floors measured in the same loop (the RUN's command
# on the host, `cp -a` of the 200 files). Targets (issue 10): cached
# ≤ 0.15 s; berth's own cost per step (build time minus the RUN command's)
# ≤ 50 ms; after a one-file change only the steps after it run
# (steps-run/op = 2: that COPY, CMD).
# When buildah is installed (scripts/deps.sh --bench) the same Dockerfile
# is built with it in the same run, offline (busybox from an OCI archive
# berth saves, RUN without network as berth's default), and the ratios
# printed; buildah's times include its CLI start-up.
# Usage: bench/build.sh [RUNS]   (as root, from the repository; takes the
# shared root-test lock, as the benchmark makes containers)
set -euo pipefail
runs=${1:-10}
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/berth-bench-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/build.test" ./build
flock /tmp/berth-root-tests.lock "$work/build.test" -test.run '^$' -test.bench BenchmarkBuild -test.benchtime "${runs}x" >"$work/go.txt"
# name -> metric value, from "BenchmarkBuild/cold-2  N  T ns/op  V unit ..."
metric() { awk -v n="BenchmarkBuild/$1" -v u="$2" '$1 ~ "^"n"(-[0-9]+)?$" { for (i = 3; i < NF; i++) if ($(i+1) == u) print $i }' "$work/go.txt"; }
ms() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1e6 }'; }
cold=$(metric cold ns/op) cached=$(metric cached ns/op) changed=$(metric last-file-changed ns/op)
run=$(metric cold RUN-ms/op) runfloor=$(metric cold RUN-floor-ms/op)
cp200=$(metric cold COPY200-ms/op) cpfloor=$(metric cold cp-a-floor-ms/op)
printf 'berth  cold %7s ms   cached %6s ms   last-file-changed %6s ms (steps run: %s)\n' "$(ms "$cold")" "$(ms "$cached")" "$(ms "$changed")" "$(metric last-file-changed steps-run/op)"
awk -v c="$cold" -v r="$run" -v f="$runfloor" -v cp="$cp200" -v cf="$cpfloor" 'BEGIN {
	printf "berth  own cost per step (cold - RUN command floor) / 6: %.1f ms\n", (c / 1e6 - f) / 6
	printf "berth  RUN step %.1f ms = %.1f x its command on the host (%.1f ms)\n", r, r / f, f
	printf "berth  COPY of 200 files %.1f ms = %.2f x cp -a (%.1f ms)\n", cp, cp / cf, cf
}'

command -v buildah >/dev/null || { echo "buildah: not installed (scripts/deps.sh --bench)"; exit 0; }
ctx=$work/ctx
mkdir -p "$ctx/files"
for i in $(seq 0 199); do printf 'small file %d\n' "$i" >"$(printf '%s/files/f%03d.txt' "$ctx" "$i")"; done
echo v0 >"$ctx/last.txt"
sed -n '/^const benchDockerfile = `/,/^`/p' build/bench_linux_test.go | sed '1s/.*`//; $d' >"$ctx/Dockerfile"
go build -o "$work/berth" ./cmd/berth
BERTH_ROOT=$work/root BERTH_RUN_ROOT=$work/run bash -c '
	mkdir -p "$1/rootfs/bin" "$1/rootfs/etc" "$1/rootfs/proc" "$1/rootfs/dev" "$1/rootfs/sys" "$1/rootfs/tmp"
	cp /bin/busybox "$1/rootfs/bin/"
	for a in sh dd cat true; do ln -sf busybox "$1/rootfs/bin/$a"; done
	tar -C "$1/rootfs" -cf "$1/busybox.tar" .
	"$1/berth" image import -c "CMD [\"sh\"]" "$1/busybox.tar" busybox:latest >/dev/null
	"$1/berth" image save --format oci -o "$1/busybox-oci.tar" busybox:latest' sh "$work"
# buildah makes containers and mounts too: it runs under the shared lock
# (root tests check the host for leaks).
exec 9>/tmp/berth-root-tests.lock
flock 9
bh=(buildah --root "$work/broot" --runroot "$work/brun" --storage-driver overlay)
bench_cleanup_buildah() { "${bh[@]}" rm --all >/dev/null 2>&1 || true; umount -R "$work/broot/overlay" 2>/dev/null || true; rm -rf "$work"; }
trap bench_cleanup_buildah EXIT
"${bh[@]}" pull -q "oci-archive:$work/busybox-oci.tar" >/dev/null
bud() { (cd "$ctx" && "${bh[@]}" bud -q --pull-never --network none --layers -t bench:1 "$@" . >/dev/null); }
timed() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); echo $((e - s)); }
bcold=0 bcached=0 bchanged=0
for i in $(seq 1 "$runs"); do bcold=$((bcold + $(timed bud --no-cache))); done
bud
for i in $(seq 1 "$runs"); do bcached=$((bcached + $(timed bud))); done
for i in $(seq 1 "$runs"); do echo "v$i" >"$ctx/last.txt"; bchanged=$((bchanged + $(timed bud))); done
awk -v n="$runs" -v c="$cold" -v k="$cached" -v x="$changed" -v bc="$bcold" -v bk="$bcached" -v bx="$bchanged" 'BEGIN {
	bc /= n; bk /= n; bx /= n
	printf "buildah cold %7.1f ms   cached %6.1f ms   last-file-changed %6.1f ms\n", bc / 1e6, bk / 1e6, bx / 1e6
	printf "berth / buildah: cold %.2f   cached %.3f   last-file-changed %.3f\n", c / bc, k / bk, x / bx
}'
