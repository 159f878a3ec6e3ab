#!/usr/bin/env bash
# What Docker's default seccomp profile costs: cold `up -d` of 10 `sleep`
# services with the default profile against the same with
# security_opt: [seccomp=unconfined], alternated over ROUNDS rounds in one
# run, in wall time and in CPU (bench/cgcpu.py: the host's CPU for the up
# and its containers, other work on the machine not counted). The warm-up
# up fills berth's seccomp cache (package seccache), as any earlier
# container with the same filter does. Target: at most 5 ms per container.
# Usage: bench/seccomp.sh BERTH_BINARY [ROUNDS]   (as root; berth built with libseccomp: make build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$1" 10.252.0.0/16
rounds=${2:-5}
bench_busybox bench/busybox:1
n=10

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.4f", b - a }'; }

bench_sleepers "$work/default" "$n"
bench_sleepers "$work/unconfined" "$n"
sed -i 's/^    command:/    security_opt: [seccomp=unconfined]\n    command:/' "$work/unconfined/compose.yaml"

# One cold up -d, then down; prints the up's seconds.
cold_up() {
	local t s
	t=$(now)
	(cd "$1" && "$berth" up -d >/dev/null)
	s=$(elapsed "$t")
	(cd "$1" && "$berth" down -t 0 >/dev/null)
	echo "$s"
}

# One cold up -d, then down; prints the CPU seconds of the up.
cpu_up() {
	"$(dirname "$0")/cgcpu.py" "cd $1 && $berth up -d" "cd $1 && $berth down -t 0"
}

(cd "$work/default" && "$berth" up -d >/dev/null && "$berth" down -t 0 >/dev/null) # warm the caches
def=0 unc=0 cdef=0 cunc=0
for r in $(seq 1 "$rounds"); do
	d=$(cold_up "$work/default")
	u=$(cold_up "$work/unconfined")
	cd_=$(cpu_up "$work/default")
	cu=$(cpu_up "$work/unconfined")
	printf 'round %d: default %.3f s, unconfined %.3f s; CPU default %.3f s, unconfined %.3f s\n' "$r" "$d" "$u" "$cd_" "$cu"
	def=$(awk -v a="$def" -v b="$d" 'BEGIN { print a + b }')
	unc=$(awk -v a="$unc" -v b="$u" 'BEGIN { print a + b }')
	cdef=$(awk -v a="$cdef" -v b="$cd_" 'BEGIN { print a + b }')
	cunc=$(awk -v a="$cunc" -v b="$cu" 'BEGIN { print a + b }')
done
awk -v d="$def" -v u="$unc" -v cd="$cdef" -v cu="$cunc" -v r="$rounds" -v n="$n" 'BEGIN {
	printf "up -d, %d services, mean of %d: default profile %.3f s, unconfined %.3f s; CPU %.3f s, %.3f s\n", n, r, d / r, u / r, cd / r, cu / r
	printf "seccomp cost per container: %.2f ms wall, %.2f ms CPU (target <= 5 ms)\n", (d - u) / r / n * 1000, (cd - cu) / r / n * 1000
}'
