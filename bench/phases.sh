#!/usr/bin/env bash
# Where the time of a cold `up -d`, a recreate and a `down -t 0` of N
# `sleep` services goes: berth run with BERTH_PHASES (internal/phase), then
# a table per step of the median and total time per container, the number
# of containers in that step at once at most, and each command's wall time.
# Usage: bench/phases.sh BERTH_BINARY [N]   (as root; takes the shared
# root-test lock; N defaults to 10).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "bench/phases.sh needs root" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"
exec 9>/tmp/berth-root-tests.lock
flock 9
bench_init "$1" 10.248.0.0/16
n=${2:-10}
bench_busybox bench/busybox:1
bench_sleepers "$work/p" "$n"

phases() { # phases TITLE ARGS...: runs berth ARGS in $work/p, prints the table
	local title=$1 log=$work/phases.log
	shift
	: >"$log"
	(cd "$work/p" && BERTH_PHASES=$log "$berth" "$@" >/dev/null 2>&1)
	echo "== $title"
	python3 - "$log" <<-'PY'
		import collections, statistics, sys
		steps = collections.defaultdict(list)  # step -> [(start, dur)]
		for line in open(sys.argv[1]):
		    pid, subject, step, start, dur = line.split()
		    steps[step].append((int(start), int(dur), subject))
		def most_at_once(spans):
		    ev = sorted([(s, 1) for s, d, _ in spans] + [(s + d, -1) for s, d, _ in spans])
		    cur = best = 0
		    for _, k in ev:
		        cur += k
		        best = max(best, cur)
		    return best
		print(f"| step | n | median ms | max ms | total ms | at once |")
		print(f"| --- | --- | --- | --- | --- | --- |")
		t0 = min(s for v in steps.values() for s, _, _ in v)
		for step, v in sorted(steps.items(), key=lambda kv: min(s for s, _, _ in kv[1])):
		    ds = [d / 1e6 for _, d, _ in v]
		    print(f"| {step} | {len(v)} | {statistics.median(ds):.1f} | {max(ds):.1f} | {sum(ds):.1f} | {most_at_once(v)} |")
		# shim exec: from the start of start.shim to shim.main of the same container
		spawn = {subj: s for s, d, subj in steps.get("start.shim", [])}
		execs = [(s - spawn[subj]) / 1e6 for s, d, subj in steps.get("shim.main", []) if subj in spawn]
		if execs:
		    print(f"| (shim exec to main) | {len(execs)} | {statistics.median(execs):.1f} | {max(execs):.1f} | {sum(execs):.1f} | |")
	PY
}

phases "cold up -d, $n services" up -d
sed -i '0,/V: "1"/s//V: "2"/' "$work/p/compose.yaml"
phases "recreate 1 of $n (-t 0)" up -d -t 0
phases "down -t 0, $n services" down -t 0
