#!/usr/bin/env bash
# Pull of a ~200 MB image of 8 incompressible layers from an in-process
# registry on 127.0.0.1 into an empty root: `berth pull` against `crane
# pull` (tarball and OCI layout) and `skopeo copy` to an OCI layout, all
# measured in this one run; then unpack throughput of berth's Snapshots
# against `tar -x` of the same layer blobs.
# Usage: bench/pull.sh [BERTH_BINARY]   (as root, from a checkout with the
# Go toolchain; skopeo, when installed, is measured too)
# Prints each figure (best of 3) and the ratios.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
command -v go >/dev/null || { echo "bench needs the Go toolchain" >&2; exit 1; }
work=$(mktemp -d /tmp/berth-pullbench.XXXXXX)
cleanup() {
	exec 3>&- 2>/dev/null || true # closing the registry's stdin stops it
	rm -rf "$work"
}
trap cleanup EXIT

cd "$repo"
berth=${1:-}
if [ -z "$berth" ]; then
	berth=$work/berth
	go build -o "$berth" ./cmd/berth
fi
. bench/lib.sh
bench_registry

now() { date +%s.%N; }
best=
measure() { # measure CMD...: best wall time of 3 runs, each into a fresh $out
	best=
	for i in 1 2 3; do
		out=$work/out.$i
		rm -rf "$work"/out.*
		sync
		local t
		t=$(now)
		"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@" >&2 || true; exit 1; }
		t=$(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
	done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

mkdir -p "$work/project"
printf 'services:\n  big:\n    image: %s\n' "$ref" >"$work/project/compose.yaml"
berth_pull() { (cd "$work/project" && BERTH_ROOT=$out/root BERTH_RUN_ROOT=$out/run "$berth" pull -q); }
crane_tar() { "$work/crane" pull "$ref" "$out.tar"; }
crane_oci() { "$work/crane" pull --format oci "$ref" "$out"; }
skopeo_oci() { skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$out:big"; }

# The image size (compressed layers), from crane's manifest.
size=$("$work/crane" manifest "$ref" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]) + m["config"]["size"])')
mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')
echo "image $ref: $mb MB in $("$work/crane" manifest "$ref" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["layers"]))') layers"

measure berth_pull; b=$best
echo "berth pull (download + verify + unpack):  ${b}s  $(ratio "$mb" "$b") MB/s"
measure crane_tar; ct=$best
echo "crane pull to a tarball (download only):  ${ct}s  $(ratio "$mb" "$ct") MB/s"
measure crane_oci; co=$best
echo "crane pull --format oci (download only):  ${co}s  $(ratio "$mb" "$co") MB/s"
sk=
if command -v skopeo >/dev/null; then
	measure skopeo_oci; sk=$best
	echo "skopeo copy to oci: (download only):      ${sk}s  $(ratio "$mb" "$sk") MB/s"
fi
echo "ratios (time of the other / time of berth; > 1 means berth is faster):"
echo "  crane tarball $(ratio "$ct" "$b")   crane oci $(ratio "$co" "$b")${sk:+   skopeo oci $(ratio "$sk" "$b")}"

# Unpack: berth's Snapshots from blobs in the store (Go benchmark, layers
# in parallel as berth does) against tar -x of the same gzip blobs, one
# after the other and 4 at a time.
crane_oci_keep() { "$work/crane" pull --format oci "$ref" "$work/layout"; }
out=$work/layout-run; crane_oci_keep
blobs=$(python3 -c 'import json,sys
idx=json.load(open(sys.argv[1]+"/index.json"))
m=json.load(open(sys.argv[1]+"/blobs/"+idx["manifests"][0]["digest"].replace(":","/")))
print(" ".join(sys.argv[1]+"/blobs/"+l["digest"].replace(":","/") for l in m["layers"]))' "$work/layout")
raw=$(for f in $blobs; do gzip -dc "$f"; done | wc -c)
rawmb=$(awk -v s="$raw" 'BEGIN { printf "%.1f", s / 1048576 }')
tar_seq() { local i=0; for f in $blobs; do mkdir -p "$out/$i"; tar -xzf "$f" -C "$out/$i"; i=$((i+1)); done; }
tar_par() { local i=0; for f in $blobs; do echo "$i $f"; i=$((i+1)); done | xargs -P4 -n2 sh -c 'mkdir -p "$0/$1" && tar -xzf "$2" -C "$0/$1"' "$out"; }
measure tar_seq; ts=$best
measure tar_par; tp=$best
snap=$(cd "$repo" && BERTH_BENCH_REF=$ref go test -run '^$' -bench '^BenchmarkSnapshots$' -benchtime 3x ./image | awk '/^BenchmarkSnapshots/ { print $3 / 1e9 }')
echo "unpack of $rawmb MB (uncompressed):"
echo "  berth Snapshots:        ${snap}s  $(ratio "$rawmb" "$snap") MB/s"
echo "  tar -xzf, sequential:   ${ts}s  $(ratio "$rawmb" "$ts") MB/s   ratio $(ratio "$ts" "$snap")"
echo "  tar -xzf, 4 at a time:  ${tp}s  $(ratio "$rawmb" "$tp") MB/s   ratio $(ratio "$tp" "$snap")"
