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
# Usage: bench/rollout.sh BERTH_BINARY [ROUNDS]     (as root; apt-get install busybox-static)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$1" 10.253.0.0/16
rounds=${2:-5}
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
bench_cleanup() { [ -z "$probe" ] || kill "$probe" 2>/dev/null || true; }

cd "$dir"
# The probe runs through both measurements, one request every 10 ms, so
# that both share the same load on the host; only the rollout's failures
# count.
( while :; do wget -q -T 2 -O /dev/null "http://127.0.0.1:$port/" 2>/dev/null || echo x; sleep 0.01; done ) >>"$work/fails" &
probe=$!
for r in $(seq 1 "$rounds"); do
	"$berth" down -t 0 >/dev/null 2>&1 || true
	stack "a$r"
	t0=$(ms)
	"$berth" up -d --wait >/dev/null 2>&1
	t1=$(ms)
	stack "b$r"
	: >"$work/fails"
	t2=$(ms)
	# Each progress line stamped when it comes (ms since the start): where
	# the rollout's time goes.
	"$berth" --progress plain up -d 2>&1 >/dev/null |
		perl -MTime::HiRes=time -ne 'BEGIN { $|=1; $s=shift } printf "%d %s", time*1000 - $s, $_' "$((t2 / 1000000))" >"$work/stamps"
	t3=$(ms)
	fails=$(wc -l <"$work/fails")
	awk -v r="$r" -v own=$(( (t1 - t0) / 1000000 )) -v roll=$(( (t3 - t2) / 1000000 )) -v f="$fails" \
		'BEGIN { printf "round %d: own time to healthy %4d ms, start-first rollout %4d ms (+%d ms, ratio %.2f), failed requests %d\n", r, own, roll, roll - own, roll / own, f }'
	# Where the rollout's time goes: its first action, the new container
	# healthy, then the switch, the drain, the old container's stop and
	# removal.
	awk 'NR == 1 { f = $1 } /web-2  Healthy/ { h = $1 } /Switched/ { s = $1 } /Drained/ { d = $1 } /web-1  Removed/ { x = $1 }
		END { printf "         first action at %d ms, new container healthy at %d ms; then switch %d ms, drain %d ms, remove %d ms\n", f, h, s - h, d - s, x - d }' "$work/stamps"
done
