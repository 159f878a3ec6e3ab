#!/usr/bin/env bash
# A start-first rollout of one service against the new container's own
# time to healthy (the goal of issue 14: the rollout takes at most 50 ms
# more). In each round, in the same run:
#   own     = `up -d --wait` of the service from nothing: load, plan,
#             create, start, until its health check passes;
#   rollout = `up -d` of an environment change, start-first: load, plan,
#             create and start the successor, wait until healthy, switch
#             the published port, drain the old container's connections,
#             stop and remove it; where that time goes is printed below
#             each round, from the stamped progress lines.
# A client probes the published port (every 10 ms, through both, so that
# both run under the same load) and counts the rollout's failures (there
# must be none).
# With more binaries (e.g. the previous build), each round measures each
# of them in turn on the same root, and a table at the end gives each
# figure's median (min–max) per binary, with the steps of the rollout
# from BERTH_PHASES (internal/phase).
# Usage: bench/rollout.sh BERTH_BINARY [ROUNDS [BERTH_BINARY...]]
# (as root; apt-get install busybox-static; it does not take the shared
# root-test lock: run it under flock /tmp/berth-root-tests.lock). KEEP=DIR
# keeps each round's stamped lines and BERTH_PHASES file there
# (stamps.ROUND.BINARY, phases.ROUND.BINARY, BINARY counted from 0).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$1" 10.253.0.0/16
rounds=${2:-5}
bins=("$berth")
for b in "${@:3}"; do bins+=("$(realpath "$b")"); done
bench_busybox bench/busybox:1
port=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 20000) }')

dir=$work/rollout
mkdir -p "$dir"
stack() {
	cat >"$dir/compose.yaml" <<YAML
services:
  web:
    image: bench/busybox:1
    init: true # httpd as PID 1 would ignore SIGTERM: the old container's stop would take its grace period
    command: ["sh", "-c", "mkdir -p /www && echo \$\$V > /www/index.html; exec httpd -f -p 80 -h /www"]
    environment: {V: "$1"}
    ports: ["127.0.0.1:$port:80"]
    healthcheck: {test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"], interval: 50ms, retries: 100}
    deploy:
      update_config: {order: start-first}
YAML
}
ms() { date +%s%N; }
probe=
bench_cleanup() {
	[ -z "$probe" ] || kill "$probe" 2>/dev/null || true
	for b in "${bins[@]}"; do (cd "$dir" && "$b" down -v -t 0 >/dev/null 2>&1) || true; done
}
label() { if [ ${#bins[@]} -eq 1 ]; then echo berth; else echo "berth#$(($1 + 1))"; fi; }

cd "$dir"
# The probe runs through both measurements, one request every 10 ms, so
# that both share the same load on the host; only the rollout's failures
# count.
( while :; do wget -q -T 2 -O /dev/null "http://127.0.0.1:$port/" 2>/dev/null || echo x; sleep 0.01; done ) >>"$work/fails" &
probe=$!
: >"$work/results"
for r in $(seq 1 "$rounds"); do
	for i in "${!bins[@]}"; do
		berth=${bins[$i]}
		tool=$(label "$i")
		"$berth" down -t 0 >/dev/null 2>&1 || true
		stack "a$r$i"
		: >"$work/phases"
		t0=$(ms)
		# BERTH_PHASES here too: the old container's shim, which inherits
		# it, then records its steps of the rollout.
		BERTH_PHASES=$work/phases "$berth" up -d --wait >/dev/null 2>&1
		t1=$(ms)
		stack "b$r$i"
		: >"$work/fails"
		t2=$(ms)
		# Each progress line stamped when it comes (ms since the start):
		# where the rollout's time goes.
		BERTH_PHASES=$work/phases "$berth" --progress plain up -d 2>&1 >/dev/null |
			perl -MTime::HiRes=time -ne 'BEGIN { $|=1; $s=shift } printf "%d %s", time*1000 - $s, $_' "$((t2 / 1000000))" >"$work/stamps"
		t3=$(ms)
		[ -z "${KEEP:-}" ] || { mkdir -p "$KEEP" && cp "$work/stamps" "$KEEP/stamps.$r.$i" && cp "$work/phases" "$KEEP/phases.$r.$i"; }
		fails=$(wc -l <"$work/fails")
		own=$(((t1 - t0) / 1000000)) roll=$(((t3 - t2) / 1000000))
		awk -v r="$r" -v t="$tool" -v own="$own" -v roll="$roll" -v f="$fails" \
			'BEGIN { printf "round %d %s: own time to healthy %4d ms, start-first rollout %4d ms (+%d ms, ratio %.2f), failed requests %d\n", r, t, own, roll, roll - own, roll / own, f }'
		# Where the rollout's time goes: its first action, the new
		# container healthy, then the switch, the drain, the old
		# container's stop and removal; the tail is from healthy to the
		# end of the command.
		awk -v end="$roll" -v t="$tool" -v out="$work/results" '
			NR == 1 { f = $1 } /web-2  Healthy/ { h = $1 } /Switched/ { s = $1 } /Drained/ { d = $1 } /web-1  Removed/ { x = $1 }
			END {
				printf "         first action at %d ms, new container healthy at %d ms; then switch %d ms, drain %d ms, remove %d ms; tail %d ms\n", f, h, s - h, d - s, x - d, end - h
				printf "stamp: new container healthy\t%s\t%d\nstamp: switch\t%s\t%d\nstamp: drain\t%s\t%d\nstamp: remove old\t%s\t%d\nstamp: tail after healthy\t%s\t%d\n", t, h, t, s - h, t, d - s, t, x - d, t, end - h >>out
			}' "$work/stamps"
		printf '%s\t%s\t%s\n' "own time to healthy" "$tool" "$own" "rollout" "$tool" "$roll" "rollout - own" "$tool" "$((roll - own))" "failed requests" "$tool" "$fails" >>"$work/results"
		# The steps of the old and the new container (internal/phase) in
		# the rollout, summed per round.
		awk -v t="$tool" -v t2="$t2" '$4 < t2 { next } $2 ~ /-web-[12]$/ { k = "phase " $3 ($2 ~ /-web-2$/ ? " (new)" : " (old)"); v[k] += $5 / 1e6 }
			$2 == "-" { v["phase " $3] += $5 / 1e6 }
			END { for (k in v) printf "%s\t%s\t%.1f\n", k, t, v[k] }' "$work/phases" | sort >>"$work/results"
	done
done
# Per figure and binary: the median (min–max) over the rounds, in ms.
echo
python3 - "$work/results" <<-'EOF'
	import statistics, sys
	rows, tools, cells = [], [], {}
	for line in open(sys.argv[1]):
	    row, tool, v = line.rstrip("\n").split("\t")
	    if row not in rows: rows.append(row)
	    if tool not in tools: tools.append(tool)
	    cells.setdefault((row, tool), []).append(float(v))
	print(f"| figure (ms) | {' | '.join(tools)} |")
	print(f"| --- |{' --- |' * len(tools)}")
	for row in rows:
	    out = []
	    for t in tools:
	        v = cells.get((row, t))
	        out.append("—" if not v else f"{statistics.median(v):.1f} ({min(v):.1f}–{max(v):.1f})")
	    print(f"| {row} | {' | '.join(out)} |")
EOF
