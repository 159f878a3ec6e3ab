#!/usr/bin/env bash
# A changed limit on 10 running services: applied in place (`~ update
# limits of`, libcontainer's Set through each shim) against recreating
# the same 10 containers for a changed environment, in the same run.
# Usage: bench/limits.sh BERTH_BINARY     (as root; apt-get install busybox-static;
# takes the shared root-test lock)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec 9>/tmp/berth-root-tests.lock
flock 9
bench_init "$1" 10.252.0.0/16
bench_busybox bench/busybox:1

now() { date +%s.%N; }
measure() { # measure LABEL DIR ARGS...
	local label=$1 dir=$2; shift 2
	local t; t=$(now)
	(cd "$dir" && "$berth" "$@" >/dev/null)
	awk -v l="$label" -v a="$t" -v b="$(now)" 'BEGIN { printf "%-36s %7.3f s\n", l, b - a }'
}

dir=$work/p
bench_sleepers "$dir" 10
sed -i 's/    environment: {V: "1"}/&\n    mem_limit: 64m\n    pids_limit: 100/' "$dir/compose.yaml"
measure "up -d, 10 services with limits" "$dir" up -d
sed -i 's/mem_limit: 64m/mem_limit: 128m/; s/pids_limit: 100/pids_limit: 200/' "$dir/compose.yaml"
measure "limits changed: 10 updates in place" "$dir" up -d -t 0
sed -i 's/V: "1"/V: "2"/' "$dir/compose.yaml"
measure "environment changed: 10 recreates" "$dir" up -d -t 0
