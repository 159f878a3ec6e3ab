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

# bench_against_floor SCRIPT SUBNET_POOL TOOL... -- BERTH_BINARY...: the
# start of a script measuring berth binaries against bare runc. It checks
# the TOOLs are installed, that it runs as root and that a binary is
# given, takes the shared root-test lock, sets $bins (the binaries'
# absolute paths), runs bench_init with the first and SUBNET_POOL, sets
# $floor_root, runc's state root (see bench_floor_delete), and evicts the
# berth binaries and runc from the page cache (bench_evict).
bench_against_floor() {
	local script=$1 pool=$2
	shift 2
	while [ "$1" != -- ]; do
		command -v "$1" >/dev/null || { echo "$script needs $1" >&2; exit 1; }
		shift
	done
	shift
	[ "$(id -u)" = 0 ] || { echo "$script needs root" >&2; exit 1; }
	[ $# -ge 1 ] || { echo "usage: $script BERTH_BINARY [BERTH_BINARY...]" >&2; exit 1; }
	exec 9>/tmp/berth-root-tests.lock
	flock 9
	bins=()
	for b in "$@"; do bins+=("$(realpath "$b")"); done
	bench_init "${bins[0]}" "$pool"
	floor_root=$work/runc
	bench_evict_berth "${bins[@]}"
	bench_evict "$(command -v runc)"
}

# bench_evict FILE...: writes FILEs back and drops their pages from the
# page cache, so that the programs a run compares all start from pages
# read back from disk. A binary the linker has just written is still
# cached as it wrote it, in large folios, and its processes take fewer
# page faults than those of a binary read back: on issue 15's 2-CPU
# guest, where a fault costs tens of microseconds, `berth version` ran
# in 23 ms fresh against 34 ms evicted, and a cold up of 10 was 4%
# faster, for the same build.
bench_evict() {
	local f
	sync "$@"
	for f in "$@"; do dd if="$f" iflag=nocache count=0 status=none; done
}

# bench_evict_berth BINARY...: bench_evict of each berth binary and the
# helpers it runs from beside it (berth-runtime, berth-idle).
bench_evict_berth() {
	local b f files=()
	for b in "$@"; do
		for f in "$b" "$(dirname "$b")"/berth-runtime "$(dirname "$b")"/berth-idle; do
			[ -f "$f" ] && files+=("$f")
		done
	done
	bench_evict "${files[@]}"
}

# bench_floor_delete: deletes every runc container under $floor_root.
bench_floor_delete() {
	for id in $(runc --root "$floor_root" list -q 2>/dev/null); do runc --root "$floor_root" delete -f "$id" >/dev/null 2>&1; done
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
	bench_evict "$crane"
	mkfifo "$work/regctl"
	"$work/benchreg" <"$work/regctl" >"$work/regref" &
	exec 3>"$work/regctl"
	for _ in $(seq 1 600); do [ -s "$work/regref" ] && break; sleep 0.1; done
	ref=$(head -1 "$work/regref")
	[ -n "$ref" ] || { echo "the bench registry did not start" >&2; exit 1; }
}

# bench_mem_available: MemAvailable plus the free pages on the per-CPU
# lists, in kB, the median of 9 samples 0.1 s apart (other work on the
# host moves it). MemAvailable leaves those pages out, and starting many
# processes parks megabytes there, released later: without them a drop
# per container swings by ±1 MB from round to round.
bench_mem_available() {
	local page
	page=$(($(getconf PAGESIZE) / 1024))
	for _ in $(seq 9); do
		{ cat /proc/meminfo; cat /proc/zoneinfo; } | awk -v page="$page" '
			/^MemAvailable:/ { kb = $2 }
			$1 == "count:" { pcp += $2 } # free pages parked on the per-CPU lists
			END { print kb + pcp * page }'
		sleep 0.1
	done | sort -n | sed -n 5p
}

# bench_mem_drop N UP DOWN: the MemAvailable drop per container (MB) with
# the N containers UP (a shell command) starts running, over ROUNDS rounds
# (default 5) of UP, DOWN; prints "MEDIAN MIN MAX" (min–max shows the
# host's noise).
bench_mem_drop() {
	local n=$1 up=$2 down=$3 drops=() before after
	for _ in $(seq "${ROUNDS:-5}"); do
		sync
		sleep 2
		before=$(bench_mem_available)
		eval "$up" >/dev/null 2>&1
		sync
		sleep "${SETTLE:-3}" # shims go idle after a second of quiet
		after=$(bench_mem_available)
		eval "$down" >/dev/null 2>&1
		drops+=("$(awk -v a="$before" -v b="$after" -v n="$n" 'BEGIN { printf "%.3f", (a - b) / 1024 / n }')")
	done
	bench_median_min_max "${drops[@]}"
}

# bench_median_min_max NUMBER...: "MEDIAN MIN MAX" of the numbers (the
# lower of the two middle ones for an even count).
bench_median_min_max() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# bench_shim_mem TOOL RUNROOT: result lines (ROW TOOL MEDIAN MIN MAX MB,
# tab-separated) of the RSS, PSS and private dirty memory of the shims of
# RUNROOT, from /proc/PID/smaps_rollup.
bench_shim_mem() {
	python3 - "$1" "$2" <<-'EOF'
		import os, statistics, sys
		rows = {"Rss": [], "Pss": [], "Private_Dirty": []}
		for pid in filter(str.isdigit, os.listdir("/proc")):
		    try:
		        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
		        if len(argv) < 5 or argv[1] != b"shim" or sys.argv[2].encode() not in argv[3] + argv[4]:
		            continue
		        m = dict(l.split(":", 1) for l in open(f"/proc/{pid}/smaps_rollup").read().splitlines()[1:])
		    except OSError:
		        continue
		    for k in rows:
		        rows[k].append(int(m[k].split()[0]) / 1024)
		names = {"Rss": "shim RSS per container", "Pss": "shim PSS per container", "Private_Dirty": "shim private dirty per container"}
		for k, v in rows.items():
		    if v:
		        print(f"{names[k]}\t{sys.argv[1]}\t{statistics.median(v)}\t{min(v)}\t{max(v)}\tMB")
	EOF
}

# bench_table RESULTS: the table of RESULTS' lines (ROW TOOL MEDIAN MIN MAX
# UNIT, tab-separated): each row, each tool's median (min–max) and its
# ratio to the floor, when the floor has the row and is not zero.
bench_table() {
	python3 - "$1" <<-'EOF'
		import sys
		rows, tools, cells = [], [], {}
		for line in open(sys.argv[1]):
		    row, tool, med, lo, hi, unit = line.rstrip("\n").split("\t")
		    if row not in rows: rows.append(row)
		    if tool not in tools: tools.append(tool)
		    cells[row, tool] = (float(med), float(lo), float(hi), unit)
		def fmt(v, unit):
		    return f"{v * 1000:.1f} ms" if unit == "s" else f"{v:.2f} {unit}"
		print(f"| figure | {' | '.join(tools)} |")
		print(f"| --- |{' --- |' * len(tools)}")
		for row in rows:
		    floor = cells.get((row, "floor"))
		    out = []
		    for tool in tools:
		        c = cells.get((row, tool))
		        if c is None:
		            out.append("—")
		            continue
		        med, lo, hi, unit = c
		        s = f"{fmt(med, unit)} ({fmt(lo, unit)}–{fmt(hi, unit)})"
		        if tool != "floor" and floor and floor[0] > 0:
		            s += f" {med / floor[0]:.2f}×"
		        out.append(s)
		    print(f"| {row} | {' | '.join(out)} |")
	EOF
}
