#!/usr/bin/env bash
# Issue 15's memory rows, side by side in one run: for each berth binary
# given (with its berth-runtime beside it), the host memory each running
# container costs (the MemAvailable drop with 50 sleepers running) and its
# shim's RSS, PSS and private dirty memory, against the floor of 50 bare
# `runc run -d` of the same busybox root filesystem. Then where each
# berth's shim memory goes, by mapping (smaps), as medians over its shims.
# Usage: bench/memory.sh BERTH_BINARY [BERTH_BINARY...]   (as root; apt-get
# install runc busybox-static; takes the shared root-test lock). ROUNDS
# (default 5) sets the rounds of 50 up and down per tool.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_against_floor bench/memory.sh 10.250.0.0/16 runc python3 -- "$@"
bench_cleanup() {
	bench_floor_delete
	for b in "${bins[@]}"; do (cd "$work/p50" && "$b" down -v -t 0 >/dev/null 2>&1) || true; done
}
bench_busybox bench/busybox:1
bench_bundle "$work/bundle"
bench_sleepers "$work/p50" 50
label() { if [ ${#bins[@]} -eq 1 ]; then echo berth; else echo "berth#$(($1 + 1))"; fi; }
for i in "${!bins[@]}"; do echo "$(label "$i") = ${bins[$i]}"; done
echo "rounds: ${ROUNDS:-5}; host: $(nproc) CPUs, $(uname -r)"
echo

results=$work/results
: >"$results"
row="host memory per running container (50 running)"
fid=berthmem$$-
floor_up="for i in \$(seq 1 50); do runc --root $floor_root run -d --bundle $work/bundle $fid\$i >/dev/null 2>&1 </dev/null; done"
floor_down="for id in \$(runc --root $floor_root list -q); do runc --root $floor_root delete -f \$id >/dev/null; done"
# The floor first and last: the host drifts during a run.
floor=()
floor+=("$(bench_mem_drop 50 "$floor_up" "$floor_down")")
breakdown=$work/breakdown
: >"$breakdown"
for i in "${!bins[@]}"; do
	b=${bins[$i]} t=$(label "$i")
	# shellcheck disable=SC2046 # median, min, max
	printf '%s\t%s\t%s\t%s\t%s\tMB\n' "$row" "$t" $(bench_mem_drop 50 "(cd $work/p50 && $b up -d)" "(cd $work/p50 && $b down -t 0)") >>"$results"
	(cd "$work/p50" && "$b" up -d >/dev/null 2>&1)
	sleep 2
	bench_shim_mem "$t" "$BERTH_RUN_ROOT" >>"$results"
	{
		echo "$t: its shims' memory by mapping, medians (kB)"
		python3 - "$BERTH_RUN_ROOT" <<-'PY'
			import collections, os, re, statistics, sys
			runroot = sys.argv[1].encode()
			per = collections.defaultdict(lambda: collections.defaultdict(list))
			n = 0
			for pid in filter(str.isdigit, os.listdir("/proc")):
			    try:
			        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
			        if len(argv) < 5 or argv[1] != b"shim" or runroot not in argv[3] + argv[4]:
			            continue
			        exe = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
			        lines = open(f"/proc/{pid}/smaps").read().splitlines()
			        threads = len(os.listdir(f"/proc/{pid}/task"))
			    except OSError:
			        continue
			    n += 1
			    acc = collections.defaultdict(collections.Counter)
			    cls = None
			    for line in lines:
			        m = re.match(r"^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$", line)
			        if m:
			            perms, name = m.groups()
			            if name == exe:
			                cls = "binary " + ("text" if "x" in perms else "data" if "w" in perms else "read-only data")
			            elif name == "":
			                cls = "anonymous (Go heap, stacks, runtime; bss; C malloc)"
			            elif ".so" in name:
			                cls = "shared libraries"
			            else:
			                cls = name
			            continue
			        k, _, v = line.partition(":")
			        if k in ("Rss", "Pss", "Private_Dirty"):
			            acc[cls][k] += int(v.split()[0])
			    acc["threads"]["Rss"] = threads
			    for c, d in acc.items():
			        for k in ("Rss", "Pss", "Private_Dirty"):
			            per[c][k].append(d[k])
			print(f"  {'mapping':54} {'RSS':>6} {'PSS':>6} {'private dirty':>13}   ({n} shims)")
			for c in sorted(per, key=lambda c: -statistics.median(per[c]["Pss"])):
			    if c == "threads":
			        continue
			    r = per[c]
			    if max(r["Rss"]) == 0:
			        continue
			    print(f"  {c:54} {statistics.median(r['Rss']):6.0f} {statistics.median(r['Pss']):6.0f} {statistics.median(r['Private_Dirty']):13.0f}")
			print(f"  threads: {statistics.median(per['threads']['Rss']):.0f}")
		PY
		echo
	} >>"$breakdown"
	(cd "$work/p50" && "$b" down -t 0 >/dev/null 2>&1)
done
floor+=("$(bench_mem_drop 50 "$floor_up" "$floor_down")")
# The floor's row: the median, min and max over both of its measures.
read -r m1 lo1 hi1 <<<"${floor[0]}"
read -r m2 lo2 hi2 <<<"${floor[1]}"
awk -v row="$row" -v m1="$m1" -v m2="$m2" -v l1="$lo1" -v l2="$lo2" -v h1="$hi1" -v h2="$hi2" 'BEGIN {
	printf "%s\tfloor\t%.3f\t%.3f\t%.3f\tMB\n", row, (m1 + m2) / 2, (l1 < l2 ? l1 : l2), (h1 > h2 ? h1 : h2) }' >>"$results"
for r in "shim RSS per container" "shim PSS per container" "shim private dirty per container"; do
	printf '%s\tfloor\t0\t0\t0\tMB\n' "$r" >>"$results"
done
bench_table "$results"
cat <<EOF

floor: 50 × runc run -d of the same root filesystem (no supervisor: 0), measured before and after
the berth rows (its median is the mean of the two medians). × is each median over the floor's.
References (issue 15): podman 0.75 MB per container, its conmon 2.0 MB RSS / 0.37 MB PSS.

EOF
cat "$breakdown"
