#!/usr/bin/env bash
# Where the CPU of a cold `up -d` of N sleepers goes, per container and per
# process role, for each berth binary given and for the floor of N bare
# `runc run -d` (Debian's runc, the same busybox root filesystem): a
# system-wide perf profile (cpu-clock samples, so it works in a VM) of each
# cold start, split by the sampled process's name into roles (the berth
# CLI, the shim, the container's init stages, the workload, kernel threads)
# and by user code, the dynamic loader and the kernel. Other work on the
# machine is sampled too but left out by role, so the table shows what the
# containers' own processes cost; bench/compare.sh's cpu row is the whole
# cost counted in cgroups.
# Usage: bench/cpusplit.sh BERTH_BINARY [BERTH_BINARY...]   (as root; apt-get
# install runc busybox-static linux-perf; takes the shared root-test lock).
# N (default 50) services; ROUNDS (default 3) cold starts per tool, the
# table giving each cell's median over them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_against_floor bench/cpusplit.sh 10.251.0.0/16 runc perf python3 -- "$@"
n=${N:-50} rounds=${ROUNDS:-3}
bench_cleanup() { bench_floor_delete; }
bench_busybox bench/busybox:1
bench_bundle "$work/bundle"
bench_sleepers "$work/p" "$n"
printf '#!/usr/bin/env bash\nfor i in $(seq 1 %s); do runc --root %q run -d --bundle %q fl$i >/dev/null 2>&1 </dev/null; done\n' \
	"$n" "$floor_root" "$work/bundle" >"$work/floor-run.sh"
chmod +x "$work/floor-run.sh"

# profile TOOL ROUND COMMAND...: a perf profile of COMMAND, summed into
# $work/split as lines TOOL ROUND ROLE KIND NANOSECONDS.
profile() {
	local tool=$1 round=$2 data=$work/perf.data
	shift 2
	sync
	sleep 0.5
	perf record -q -a -F 4999 -o "$data" -- "$@" >/dev/null 2>&1
	perf report -i "$data" --stdio --sort comm,dso -F period,comm,dso 2>/dev/null |
		python3 "$work/roles.py" "$tool" "$round" >>"$work/split"
}
cat >"$work/roles.py" <<-'PY'
	import re, sys
	tool, rnd = sys.argv[1], sys.argv[2]
	def role(comm):
	    if comm == "berth": return "CLI"
	    if comm in ("berth-runtime", "berth-idle"): return "shim"
	    if comm == "runc": return "runc (floor)"
	    if comm.startswith("runc:[") or comm == "exe" or comm.isdigit(): return "container init"
	    if comm == "sleep": return "workload"
	    if re.match(r"(kworker|ksoftirqd|rcu|migration|kthreadd|cpuhp)", comm): return "kernel threads"
	    return None  # the machine's other work, the harness, perf, idle
	for line in sys.stdin:
	    f = line.split()
	    if len(f) < 3 or not f[0].isdigit(): continue
	    period, comm, dso = int(f[0]), f[1], f[2]
	    r = role(comm)
	    if r is None: continue
	    kind = "kernel" if dso.startswith("[kernel") else "loader" if "ld-linux" in dso else "user"
	    print(tool, rnd, r.replace(" ", "_"), kind, period)
PY
: >"$work/split"
for r in $(seq 1 "$rounds"); do
	for i in "${!bins[@]}"; do
		b=${bins[$i]}
		(cd "$work/p" && profile "berth#$((i + 1))" "$r" "$b" up -d && "$b" down -t 0 >/dev/null 2>&1)
	done
	profile floor "$r" "$work/floor-run.sh"
	bench_cleanup
done
for i in "${!bins[@]}"; do echo "berth#$((i + 1)) = ${bins[$i]}"; done
echo "$n services, median of $rounds cold starts; ms of CPU per container"
python3 - "$work/split" "$n" <<-'PY'
	import collections, statistics, sys
	n = int(sys.argv[2])
	cell = collections.defaultdict(lambda: collections.defaultdict(float))  # (tool, role, kind) -> round -> ns
	tools = []
	for line in open(sys.argv[1]):
	    tool, rnd, role, kind, ns = line.split()
	    if tool not in tools: tools.append(tool)
	    role = role.replace("_", " ")
	    for k in (kind, "all"):
	        cell[(tool, role, k)][rnd] += int(ns)
	        cell[(tool, "total", k)][rnd] += int(ns)
	rounds = sorted({r for v in cell.values() for r in v})
	def med(tool, role, kind):
	    v = cell.get((tool, role, kind))
	    return statistics.median(v.get(r, 0.0) for r in rounds) / 1e6 / n if v else 0.0
	roles = ["CLI", "shim", "runc (floor)", "container init", "workload", "kernel threads", "total"]
	print("| role | " + " | ".join(f"{t} (user / loader / kernel / all)" for t in tools) + " |")
	print("| --- |" + " --- |" * len(tools))
	for role in roles:
	    if not any((t, role, "all") in cell for t in tools): continue
	    row = [f"{med(t, role, 'user'):.1f} / {med(t, role, 'loader'):.1f} / {med(t, role, 'kernel'):.1f} / **{med(t, role, 'all'):.1f}**" for t in tools]
	    print(f"| {role} | " + " | ".join(row) + " |")
	floor = med("floor", "total", "all")
	if floor:
	    print("total as a ratio to the floor: " + ", ".join(f"{t} {med(t, 'total', 'all') / floor:.2f}×" for t in tools if t != "floor"))
PY
