# Shared set-up of berth's benchmarks; sourced, never run.
#
# bench_init BERTH_BINARY SUBNET_POOL: a private berth under a temporary
# directory $work ($BERTH_ROOT, $BERTH_RUN_ROOT, $BERTH_SUBNET_POOL set,
# $berth the binary's absolute path). On exit every project under $work is
# taken down, the root's cgroup parent removed, then $work; a script adds
# its own clean-up as a function bench_cleanup, run first.
bench_init() {
	berth=$(realpath "$1")
	work=$(mktemp -d /tmp/berth-bench.XXXXXX)
	export BERTH_ROOT=$work/root BERTH_RUN_ROOT=$work/run BERTH_SUBNET_POOL=$2
	# berth's cgroup parent for a private root: "berth_" + 8 hex of sha256(root).
	bench_cgroup=berth_$(printf '%s' "$BERTH_ROOT" | sha256sum | cut -c1-8)
	trap bench_exit EXIT
}

bench_exit() {
	if declare -F bench_cleanup >/dev/null; then bench_cleanup || true; fi
	for f in "$work"/*/compose.yaml; do
		[ -f "$f" ] && (cd "$(dirname "$f")" && "$berth" down -v -t 0 >/dev/null 2>&1 || true)
	done
	for d in /sys/fs/cgroup/*/"$bench_cgroup"; do rmdir "$d" 2>/dev/null || true; done
	rm -rf "$work"
}

# bench_busybox REF: imports an image of the host's static busybox as REF;
# its root filesystem stays at $work/rootfs.
bench_busybox() {
	local rootfs=$work/rootfs
	mkdir -p "$rootfs"/bin "$rootfs"/etc "$rootfs"/proc "$rootfs"/dev "$rootfs"/sys "$rootfs"/tmp
	cp /bin/busybox "$rootfs"/bin/
	for a in sh sleep true httpd wget mkdir; do ln -sf busybox "$rootfs/bin/$a"; done
	tar -C "$rootfs" -cf "$work/busybox.tar" .
	"$berth" image import "$work/busybox.tar" "$1" >/dev/null
}

# bench_sleepers DIR N: a project in DIR of N services sleeping in bench/busybox:1.
bench_sleepers() {
	mkdir -p "$1"
	{
		echo "services:"
		for i in $(seq 1 "$2"); do
			printf '  s%d:\n    image: bench/busybox:1\n    command: ["sleep", "100000"]\n    environment: {V: "1"}\n' "$i"
		done
	} >"$1/compose.yaml"
}

# bench_bundle DIR: a runc bundle in DIR of the root filesystem
# bench_busybox made ($work/rootfs), running `sleep 100000`: the floor.
bench_bundle() {
	mkdir -p "$1"
	cp -a "$work/rootfs" "$1/rootfs"
	(cd "$1" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"sleep", "100000"/' config.json)
}

# bench_registry: builds and starts image/internal/benchreg (an in-process
# registry on 127.0.0.1 holding one synthetic image of 8 incompressible
# layers, 200 MB) and crane; sets $ref, $crane. The registry stops when
# the script exits (its stdin, fd 3, closes).
bench_registry() {
	local repo
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	(cd "$repo" && go build -o "$work/benchreg" ./image/internal/benchreg &&
		go build -o "$work/crane" github.com/google/go-containerregistry/cmd/crane)
	crane=$work/crane
	mkfifo "$work/regctl"
	"$work/benchreg" <"$work/regctl" >"$work/regref" &
	exec 3>"$work/regctl"
	for _ in $(seq 1 600); do [ -s "$work/regref" ] && break; sleep 0.1; done
	ref=$(head -1 "$work/regref")
	[ -n "$ref" ] || { echo "the bench registry did not start" >&2; exit 1; }
}
