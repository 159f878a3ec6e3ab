#!/usr/bin/env bash
# Build speed of the issue's 6-step Dockerfile on a busybox base (ENV,
# WORKDIR, COPY of 200 small files, RUN writing 10 MB, COPY of one file,
# CMD), through package build's BenchmarkBuild (berth has no `build`
# command yet): cold (--no-cache), fully cached, and after the last copied
# file changed. Targets (issue 10): cached ≤ 0.15 s; berth's own cost per
# step (build time minus the RUN command's) ≤ 50 ms; after a one-file
# change only the steps after it run (steps-run/op = 2: that COPY, CMD).
# Usage: bench/build.sh [RUNS]   (as root, from the repository; takes the
# shared root-test lock, as the benchmark makes containers)
set -euo pipefail
runs=${1:-10}
cd "$(dirname "$0")/.."
bin=$(mktemp /tmp/berth-bench-build.XXXXXX)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" ./build
flock /tmp/berth-root-tests.lock "$bin" -test.run '^$' -test.bench BenchmarkBuild -test.benchtime "${runs}x" |
	awk '/^Benchmark/ { printf "%-34s %8.1f ms  %s %s  %s %s\n", $1, $3/1e6, $5, $6, $7, $8 }'
