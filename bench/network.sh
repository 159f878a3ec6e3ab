#!/usr/bin/env bash
# Network figures for berth, as root, in one run:
#  1. TCP throughput and connection rate through a published port (nftables
#     DNAT from 127.0.0.1 into a test netns) against direct loopback, and the
#     ratio; also the container address over the veth without DNAT.
#  2. The time to create a network (bridge + nft rules) and attach 50
#     containers' netns to it, and to attach one.
# Only loopback and a netns the tool makes are used; everything is removed.
# Usage: bench/network.sh [DURATION [CONNS]]   e.g. bench/network.sh 3s 3000
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-3s}
conns=${2:-3000}
[ "$(id -u)" = 0 ] || { echo "bench/network.sh needs root" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-netbench.XXXXXX)
trap 'rm -rf "$work"' EXIT

go build -o "$work/nettool" ./network/internal/nettool
echo "== TCP through a published port vs direct loopback (each run ${dur}, ${conns} connections)"
"$work/nettool" -duration "$dur" -conns "$conns"

echo "== network create + attach"
out=$(go test -run '^$' -bench '^(BenchmarkAttach|BenchmarkNetworkWith50)$' -benchtime 5x ./network 2>&1) ||
	{ echo "$out" >&2; exit 1; }
echo "$out" | awk '$4 == "ns/op" { printf "%-28s %8.1f ms/op\n", $1, $3 / 1e6 }'
