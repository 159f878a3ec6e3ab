#!/usr/bin/env bash
# Wall time of `berth exec -T SERVICE true` (with the project's name from
# compose.yaml, and with -p, which spares loading it, as Docker Compose
# does) against floors measured in the
# same run on the same container: `runc exec` (when runc is installed:
# runc's own CLI joining berth's container through its libcontainer state)
# and `nsenter` into the container's namespaces running `true` (no cgroup,
# no confinement, nothing to look up: a floor no exec can reach).
# Usage: bench/exec.sh BERTH_BINARY [RUNS]   (as root; apt-get install hyperfine [runc])
set -euo pipefail
runs=${2:-50}
command -v hyperfine >/dev/null || { echo "bench/exec.sh needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"
bench_init "$1" 10.252.0.0/16
bench_cleanup() { runc --root "$work/runc" delete -f bench-floor >/dev/null 2>&1; }

# An image from the host's static busybox, one service sleeping in it.
bench_busybox bench/busybox:1
rootfs=$work/rootfs
mkdir -p "$work/p"
printf 'name: bench\nservices:\n  web:\n    image: bench/busybox:1\n    command: ["sleep", "100000"]\n' >"$work/p/compose.yaml"
cd "$work/p"
"$berth" -p bench up -d >/dev/null
ctr=bench-web-1
pid=$(grep -o '"init_process_pid":[0-9]*' "$BERTH_RUN_ROOT/runc/$ctr/state.json" | cut -d: -f2)

cmds=(-n "berth exec -T web true" "$berth exec -T web true"
	-n "berth -p bench exec -T web true" "$berth -p bench exec -T web true"
	-n "nsenter (floor)" "nsenter -t $pid -m -u -i -n -p -r -w /bin/true")
# runc exec of a container runc runs itself, from the same root filesystem
# (runc's CLI may be older than berth's libcontainer and not read its state).
if command -v runc >/dev/null; then
	bundle=$work/bundle
	mkdir -p "$bundle"
	cp -a "$rootfs" "$bundle/rootfs"
	(cd "$bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"sleep", "100000"/' config.json)
	runc --root "$work/runc" run -d --bundle "$bundle" bench-floor >/dev/null 2>&1 </dev/null
	cmds+=(-n "runc exec (floor)" "runc --root $work/runc exec bench-floor true")
else
	echo "(no runc: no runc exec floor; apt-get install runc)" >&2
fi
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/result.json" "${cmds[@]}" >&2

# One line per command, and its ratio to each floor.
python3 - "$work/result.json" <<'EOF'
import json, sys
res = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
floors = {k: v for k, v in res.items() if "floor" in k}
for name, mean in res.items():
    line = f"{name:34} {mean*1000:7.1f} ms"
    if name not in floors:
        line += "".join(f"   {mean/f:4.1f}x {fn.split()[0]}" for fn, f in floors.items())
    print(line)
EOF
