#!/usr/bin/env bash
# Wall time of berth's lifecycle on N `sleep` services, against the floor
# of a bare `runc run -d` of a busybox bundle measured in the same run.
# Usage: bench/up.sh BERTH_BINARY     (as root; apt-get install runc busybox-static)
# Prints one line per measurement and the ratio to the runc floor.
set -euo pipefail
command -v runc >/dev/null || { echo "bench needs runc for the floor: apt-get install runc" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"
bench_init "$1" 10.251.0.0/16
bench_cleanup() { runc --root "$work/runc" delete -f bench-floor >/dev/null 2>&1; }
bench_busybox bench/busybox:1

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.4f", b - a }'; }

# The floor: runc run -d of the same root filesystem.
bundle=$work/bundle
bench_bundle "$bundle"
t=$(now); runc --root "$work/runc" run -d --bundle "$bundle" bench-floor >/dev/null 2>&1 </dev/null; floor=$(elapsed "$t")
runc --root "$work/runc" delete -f bench-floor >/dev/null

measure() { # measure LABEL DIR ARGS...
	local label=$1 dir=$2; shift 2
	local t; t=$(now)
	(cd "$dir" && "$berth" "$@" >/dev/null)
	local s; s=$(elapsed "$t")
	printf '%-28s %7.3f s  %6.1fx runc\n' "$label" "$s" "$(awk -v s="$s" -v f="$floor" 'BEGIN { print s / f }')"
}

printf '%-28s %7.3f s\n' "runc run -d (floor)" "$floor"
for n in 1 10 50; do
	bench_sleepers "$work/p$n" "$n"
	measure "up -d, $n services (cold)" "$work/p$n" up -d
done
measure "up -d, no-op (10)" "$work/p10" up -d
sed -i '0,/V: "1"/s//V: "2"/' "$work/p10/compose.yaml"
measure "recreate 1 of 10 (-t 0)" "$work/p10" up -d -t 0
measure "down -t 0, 10 services" "$work/p10" down -t 0
measure "down -t 0, 50 services" "$work/p50" down -t 0
measure "down -t 0, 1 service" "$work/p1" down -t 0
