#!/usr/bin/env bash
# A reconcile pass from git on an unchanged repository and host (fetch of a
# local repository + observe + empty plan), 10 services, against the floors
# measured in the same run: `git fetch` of the same repository and a no-op
# `berth up -d` (load + observe + empty plan, without git).
# Usage: bench/reconcile.sh BERTH_BINARY     (as root; apt-get install hyperfine git)
# Target (issue 14): the pass ≤ 100 ms.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_init "$1" 10.252.0.0/16
bench_busybox bench/busybox:1

repo=$work/repo
bench_sleepers "$repo/shop" 10
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=b -c user.email=b@b add -A
git -C "$repo" -c user.name=b -c user.email=b@b commit -q -m stack
cp -a "$repo/shop" "$work/plain"   # the same stack as a plain file, for the floor
mkdir -p "$work/clone" && git -C "$work/clone" init -q --bare && git -C "$work/clone" remote add origin "$repo"

pass=("$berth" -p shop reconcile --git "file://$repo" --path shop)
"${pass[@]}" >/dev/null                     # first pass: the stack comes up
(cd "$work/plain" && "$berth" -p shop up -d >/dev/null)
bench_cleanup() { (cd "$work/plain" && "$berth" -p shop down -t 0 >/dev/null 2>&1); }

hyperfine -N -w 3 -r 20 --export-markdown "$work/md" \
	-n "git fetch (floor)" "git -C $work/clone fetch -q origin +refs/heads/*:refs/remotes/origin/*" \
	-n "berth up -d, no-op (floor)" "sh -c 'cd $work/plain && $berth -p shop up -d'" \
	-n "berth reconcile --git, unchanged" "${pass[*]}"
cat "$work/md"
