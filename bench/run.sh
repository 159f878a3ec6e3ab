#!/usr/bin/env bash
# Wall time of `berth run --rm -T SERVICE true` against a cold `up -d` of
# the same one-service project measured in the same run (each preceded by
# a `down`, so both make the network and the container from nothing; the
# one-off also waits for its exit and removes itself). Target: run ≤ 1.5×.
# Usage: bench/run.sh BERTH_BINARY [RUNS]   (as root; apt-get install hyperfine)
set -euo pipefail
berth=$(realpath "$1")
runs=${2:-20}
command -v hyperfine >/dev/null || { echo "bench/run.sh needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-bench-run.XXXXXX)
export BERTH_ROOT=$work/root BERTH_RUN_ROOT=$work/run BERTH_SUBNET_POOL=10.253.0.0/16
cgroup=berth_$(printf '%s' "$BERTH_ROOT" | sha256sum | cut -c1-8) # berth's cgroup parent for a private root
cleanup() {
	(cd "$work/p" && "$berth" -p bench down -t 0 >/dev/null 2>&1) || true
	for d in /sys/fs/cgroup/*/"$cgroup"; do rmdir "$d" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

rootfs=$work/rootfs
mkdir -p "$rootfs"/bin "$rootfs"/etc "$rootfs"/proc "$rootfs"/dev "$rootfs"/sys "$rootfs"/tmp "$work/p"
cp /bin/busybox "$rootfs"/bin/
for a in sh sleep true; do ln -s busybox "$rootfs/bin/$a"; done
tar -C "$rootfs" -cf "$work/busybox.tar" .
"$berth" image import "$work/busybox.tar" bench/busybox:1 >/dev/null
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
