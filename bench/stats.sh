#!/usr/bin/env bash
# Wall time of `berth stats --no-stream` (and of ps, for scale) on a
# project of N running `sleep` services (default 50). Target: <= 0.2 s.
# Usage: bench/stats.sh BERTH_BINARY [N]     (as root; apt-get install busybox-static)
# Run it under the shared lock on a shared host:
#   flock /tmp/berth-root-tests.lock bench/stats.sh bin/berth
set -euo pipefail
berth=$(realpath "$1")
n=${2:-50}
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUN_ROOT=$work/run BERTH_SUBNET_POOL=10.252.0.0/16
# berth's cgroup parent for a private root: "berth_" + 8 hex of sha256(root).
cgroup=berth_$(printf '%s' "$BERTH_ROOT" | sha256sum | cut -c1-8)
cleanup() {
	(cd "$work/p" 2>/dev/null && "$berth" down -v -t 0 >/dev/null 2>&1) || true
	for d in /sys/fs/cgroup/*/"$cgroup"; do rmdir "$d" 2>/dev/null || true; done
	rm -rf "$work"
}
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

mkdir -p "$work/p"
{
	echo "services:"
	for i in $(seq 1 "$n"); do
		printf '  s%d:\n    image: bench/busybox:1\n    command: ["sleep", "100000"]\n' "$i"
	done
} >"$work/p/compose.yaml"
cd "$work/p"
"$berth" up -d >/dev/null

measure() { # measure LABEL ARGS...: the best of 5 runs
	local label=$1 best=; shift
	for _ in 1 2 3 4 5; do
		local t; t=$(now)
		"$berth" "$@" >/dev/null
		local s; s=$(elapsed "$t")
		best=$(awk -v s="$s" -v b="${best:-$s}" 'BEGIN { print (s < b) ? s : b }')
	done
	printf '%-36s %7.3f s\n' "$label" "$best"
}
rows=$("$berth" stats --no-stream | tail -n +2 | wc -l)
[ "$rows" -eq "$n" ] || { echo "stats --no-stream showed $rows containers, want $n" >&2; exit 1; }
measure "stats --no-stream, $n containers" stats --no-stream
measure "ps, $n containers" ps
measure "version (startup floor)" version
