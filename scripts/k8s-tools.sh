#!/usr/bin/env bash
# Builds the programs berth's kube tests run against — etcd, kube-apiserver
# and kube-controller-manager — from the tools modules tools/etcd and
# tools/k8s into a cache directory outside the clone:
#
#     ${BERTH_K8S_TOOLS:-/var/cache/berth-k8s-tools}/bin
#
# (the tests look there too). A fresh build takes about 12.5 CPU-minutes
# (some 7 minutes on two idle cores), ~5 GB of Go build cache and 241 MB of
# programs; it is skipped when the stamp (a hash of the tools modules and
# the Go version) matches. Runs at the lowest priority.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BERTH_K8S_TOOLS:-/var/cache/berth-k8s-tools}
stamp=$( (cat tools/k8s/go.mod tools/k8s/go.sum tools/etcd/go.mod tools/etcd/go.sum; go version) | sha256sum | cut -d' ' -f1)
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] &&
	[ -x "$dir/bin/etcd" ] && [ -x "$dir/bin/kube-apiserver" ] && [ -x "$dir/bin/kube-controller-manager" ]; then
	exit 0
fi
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
echo "k8s-tools: building etcd, kube-apiserver and kube-controller-manager into $dir/bin" >&2
version=k8s.io/component-base/version
ldk="-s -w -X $version.gitVersion=v1.37.2 -X $version.gitMajor=1 -X $version.gitMinor=37 -X $version.gitTreeState=clean"
(cd tools/etcd && nice -n 19 go build -trimpath -ldflags '-s -w' -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
(cd tools/k8s && nice -n 19 go build -trimpath -ldflags "$ldk" -o "$tmp/" \
	k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager)
rm -rf "$dir/bin"
chmod 755 "$tmp"
mv "$tmp" "$dir/bin"
trap - EXIT
echo "$stamp" >"$dir/stamp"
echo "k8s-tools: built in $(($(date +%s) - start))s" >&2
