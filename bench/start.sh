#!/usr/bin/env bash
# Process start of berth (`berth version`: package init of everything it
# links) and the size of its binary, side by side for each berth given
# (e.g. a build before and after a change), with /bin/true as the floor;
# and, for the first one, what exec'ing berth-kube (beside it) adds to a
# Kubernetes command (`kube render` through berth and berth-kube directly).
# Usage: bench/start.sh BERTH_BINARY [OTHER_BERTH_BINARY...]
# Run it under the shared lock on a shared host:
#   flock /tmp/berth-root-tests.lock bench/start.sh bin/berth /tmp/berth-old
set -euo pipefail
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
dir=$(cd "$(dirname "$0")/.." && pwd)
json=$(mktemp)
trap 'rm -f "$json"' EXIT
cmds=(/bin/true)
for b in "$@"; do cmds+=("$(realpath "$b") version"); done
kube=$(dirname "$(realpath "$1")")/berth-kube
web=$dir/kube/testdata/web/compose.yaml
if [ -x "$kube" ]; then
	cmds+=("$(realpath "$1") -f $web kube render" "$kube -f $web kube render")
fi
hyperfine -N --warmup 30 --runs 300 --export-json "$json" "${cmds[@]}" >/dev/null
floor=$(jq '.results[0].median' "$json")
printf '%-90s %9s %9s %7s\n' command median min-max ratio
jq -r --argjson floor "$floor" '.results[] | [.command, .median*1000, .min*1000, .max*1000, .median/$floor] |
	"\(.[0])\t\(.[1])\t\(.[2])\t\(.[3])\t\(.[4])"' "$json" |
	while IFS=$'\t' read -r c med min max ratio; do
		printf '%-90s %6.2f ms %4.1f–%.1f %6.1f×\n' "$c" "$med" "$min" "$max" "$ratio"
	done
for b in "$@" ${kube:+$( [ -x "$kube" ] && echo "$kube")}; do
	printf '%-90s %6.1f MB\n' "size of $(realpath "$b")" "$(stat -c %s "$(realpath "$b")" | awk '{print $1/1e6}')"
done
