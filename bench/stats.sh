#!/usr/bin/env bash
# Wall time of `berth stats --no-stream` (and of ps, for scale) on a
# project of N running `sleep` services (default 50). Target: <= 0.2 s.
# Usage: bench/stats.sh BERTH_BINARY [N]     (as root; apt-get install busybox-static)
# Run it under the shared lock on a shared host:
#   flock /tmp/berth-root-tests.lock bench/stats.sh bin/berth
set -euo pipefail
n=${2:-50}
. "$(dirname "$0")/lib.sh"
bench_init "$1" 10.252.0.0/16

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.4f", b - a }'; }

bench_busybox bench/busybox:1

bench_sleepers "$work/p" "$n"
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
