#!/usr/bin/env bash
# Installs, idempotently, the Debian packages berth's demo and tests need:
# busybox-static (the root filesystem of test and example images),
# nftables, iptables and iproute2 (to inspect the host in tests), procps,
# curl, hyperfine (bench/exec.sh), libseccomp-dev with pkg-config (to
# link libseccomp: seccomp filters), gcc with libc6-dev and musl-tools (berth-idle, static, linked with
# musl). Needs root; does nothing when everything is there.
#
# BENCH ONLY (CI does not need them): with --bench it also installs
# buildah, which bench/build.sh compares berth's builder with, and runc, the
# floor of bench/up.sh and bench/compare.sh, and linux-perf (bench/cpusplit.sh).
set -euo pipefail
pkgs=(busybox-static musl-tools nftables iptables iproute2 procps curl hyperfine libseccomp-dev pkg-config gcc libc6-dev)
if [ "${1:-}" = --bench ]; then
	pkgs+=(buildah runc linux-perf)
fi
need=()
for pkg in "${pkgs[@]}"; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing packages: ${need[*]}; run as root (or: sudo apt-get install ${need[*]})" >&2
	exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
