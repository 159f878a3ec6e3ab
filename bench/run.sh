#!/usr/bin/env bash
# Wall time of `berth run --rm -T SERVICE true` against a cold `up -d` of
# the same one-service project measured in the same run (each preceded by
# a `down`, so both make the network and the container from nothing; the
# one-off also waits for its exit and removes itself). Target: run ≤ 1.5×.
# Usage: bench/run.sh BERTH_BINARY [RUNS]   (as root; apt-get install hyperfine)
set -euo pipefail
runs=${2:-20}
command -v hyperfine >/dev/null || { echo "bench/run.sh needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"
bench_init "$1" 10.253.0.0/16
bench_busybox bench/busybox:1
mkdir -p "$work/p"
printf 'name: bench\nservices:\n  web:\n    image: bench/busybox:1\n    command: ["sleep", "100000"]\n' >"$work/p/compose.yaml"
cd "$work/p"
down="$berth -p bench down -t 0"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/result.json" \
	--prepare "$down" -n "up -d (floor)" "$berth -p bench up -d" \
	--prepare "$down" -n "run --rm -T web true" "$berth -p bench run --rm -T web true" >&2

python3 - "$work/result.json" <<'PY'
import json, sys
res = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
floor = res["up -d (floor)"]
for name, t in res.items():
    print(f"{name:28s} {t*1000:7.1f} ms  {t/floor:5.2f}x up -d")
PY
