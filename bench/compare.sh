#!/usr/bin/env bash
# Issue 15's figures, side by side in one run: each berth binary given
# (e.g. the previous build and this one) against the floor of bare runc
# (Debian's runc, the same busybox root filesystem), and Docker Compose or
# podman-compose when they are installed. Every timed row is the median,
# with min–max, of RUNS runs of each tool, and each tool's ratio to the
# floor. A row's runs are taken in ROUNDS (default 5) rounds, every tool a
# few runs a round in an order rotated each round: this guest drifts by
# 10-20% over minutes, and a tool whose runs all came first or last read
# that much faster or slower than the one beside it.
# Usage: bench/compare.sh BERTH_BINARY [BERTH_BINARY...]   (as root, from a
# checkout with the Go toolchain; apt-get install runc hyperfine
# busybox-static curl; takes the shared root-test lock). RUNS (default 10)
# sets the runs per timed row; SECTIONS (default "lifecycle cpu memory pull
# port") the groups of rows measured; "noop" measures only the no-op up
# rows of lifecycle, with `berth version` (process start and package init,
# what any command costs) beside them; "down" only lifecycle's down row.
# The CPU row also measures the floor with Docker's default seccomp
# profile (floor+seccomp), the filter berth installs and bare runc does not;
# runc built from the libcontainer berth links (runc-same, `go install`
# through the module proxy); and that libcontainer starting all 50 from
# one process (one-process), the floor of a process shape without a
# process per container start. The CPU row runs every tool once per
# round, the order rotated each round, CPU_ROUNDS (default 5) rounds.
# Every binary compared (berth's three, runc, those built here) is evicted
# from the page cache first, so that a build just linked does not start
# faster than one read back from disk (see bench_evict in lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_against_floor bench/compare.sh 10.249.0.0/16 runc hyperfine curl go python3 -- "$@"
src=$(cd "$(dirname "$0")/.." && pwd) # the checkout, for go build
runs=${RUNS:-10}
rounds=${ROUNDS:-5}
per=$(((runs + rounds - 1) / rounds)) # runs of a tool in a round
bench_cleanup() {
	bench_floor_delete
	if [ -x "$work/onestart" ]; then "$work/onestart" "$work/same-root" delete >/dev/null 2>&1 || true; fi
	for b in "${bins[@]}"; do for d in "$work"/*/compose.yaml; do
		(cd "$(dirname "$d")" && "$b" down -v -t 0 >/dev/null 2>&1) || true
	done; done
}
bench_busybox bench/busybox:1
bench_bundle "$work/bundle"
for n in 10 50; do bench_sleepers "$work/p$n" "$n"; done

# Column names: berth binaries by their path, then the floor.
label() { # label INDEX: "berth" for one binary, else "berth#N (path)"
	if [ ${#bins[@]} -eq 1 ]; then echo berth; else echo "berth#$(($1 + 1))"; fi
}
for i in "${!bins[@]}"; do echo "$(label "$i") = ${bins[$i]}"; done
for other in "docker compose" podman-compose; do
	if ! $other version >/dev/null 2>&1; then echo "$other: not installed, its column is left out"; fi
done
echo "runs per timed row: $((per * rounds)) in $rounds rounds; host: $(nproc) CPUs, $(uname -r)"
echo

sections=" ${SECTIONS:-lifecycle cpu memory pull port} "
want() { [[ $sections == *" $1 "* ]]; } # want SECTION: whether its rows are measured

results=$work/results # lines: ROW<TAB>TOOL<TAB>MEDIAN<TAB>MIN<TAB>MAX<TAB>UNIT
: >"$results"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }
samples=$work/samples # lines: ROW<TAB>TOOL<TAB>SECONDS<TAB>SECONDS...
: >"$samples"

# timed ROW TOOL [hyperfine options...] COMMAND: adds the times of $per
# runs of COMMAND, run without a shell by hyperfine, to ROW's samples of
# TOOL.
timed() {
	local row=$1 tool=$2 json=$work/hf.json
	shift 2
	hyperfine -N -r "$per" --export-json "$json" "$@" >/dev/null 2>&1 ||
		{ echo "failed: $row, $tool: $*" >&2; hyperfine -N -r 1 "$@" >&2 || true; exit 1; }
	python3 - "$json" "$row" "$tool" >>"$samples" <<-'EOF'
		import json, sys
		r = json.load(open(sys.argv[1]))["results"][0]
		print(sys.argv[2], sys.argv[3], *r["times"], sep="\t")
	EOF
}

# rotated [floor] ROW_FUNCTION ARGS...: runs ROW_FUNCTION ARGS... TOOL for
# each berth binary's index (and -1, the floor, with "floor") in each of
# $rounds rounds, the order rotated each round; then records each tool's
# median, min and max of the samples its runs added.
rotated() {
	local with_floor=0 r j i n
	if [ "$1" = floor ]; then with_floor=1 && shift; fi
	n=$((${#bins[@]} + with_floor))
	for ((r = 0; r < rounds; r++)); do
		for ((j = 0; j < n; j++)); do
			i=$(((j + r) % n))
			if [ "$i" -eq "${#bins[@]}" ]; then i=-1; fi
			"$@" "$i"
		done
	done
	python3 - "$samples" >>"$results" <<-'EOF'
		import sys
		order, vals = [], {}
		for line in open(sys.argv[1]):
		    row, tool, *ts = line.rstrip("\n").split("\t")
		    if (row, tool) not in vals:
		        order.append((row, tool))
		        vals[row, tool] = []
		    vals[row, tool] += map(float, ts)
		for row, tool in order:
		    v = sorted(vals[row, tool])
		    print(row, tool, v[(len(v) - 1) // 2], v[0], v[-1], "s", sep="\t")
	EOF
	: >"$samples"
}

# tool INDEX: the column of a berth binary's index, "floor" for -1.
tool() { if [ "$1" -lt 0 ]; then echo floor; else label "$1"; fi; }

# Scripts hyperfine runs: the floor's equivalents of each row, and the
# steps around berth's.
script() { # script NAME BODY: an executable bash script $work/NAME.sh
	printf '#!/usr/bin/env bash\nset -e\n%s\n' "$2" >"$work/$1.sh"
	chmod +x "$work/$1.sh"
}
R="runc --root $floor_root"
fid=berthfloor$$- # container IDs (and so runc's cgroup names) of this run only
script floor-run "for i in \$(seq 1 \$1); do $R run -d --bundle $work/bundle $fid\$i >/dev/null 2>&1 </dev/null; done"
script floor-delete "for id in \$($R list -q); do $R delete -f \$id >/dev/null; done"
script floor-reset "$work/floor-delete.sh; $work/floor-run.sh \$1"
script floor-recreate "$R delete -f ${fid}1 >/dev/null; $R run -d --bundle $work/bundle ${fid}1 >/dev/null 2>&1 </dev/null"
# Recreate one of ten: each run changes s1's environment, so up recreates it.
script bump "sed -i -E '0,/V: \"[0-9]+\"/s//V: \"'\$RANDOM'\"/' $work/p10/compose.yaml"

berth_in() { # berth_in BINARY DIR ARGS...: the command line hyperfine runs
	local b=$1 dir=$2
	shift 2
	printf '%q ' env -C "$dir" "$b" "$@"
}

# The rows, one tool's block of a round each. A block leaves nothing
# running that the next tool's block would share the machine with. The
# first run of a berth binary after another's misses the project cache
# (one entry a place, each build its own): a warm-up run takes the miss.
cold_up() { # cold_up N TOOL_INDEX
	if [ "$2" -lt 0 ]; then
		timed "cold up -d, $1 services" floor --prepare "$work/floor-delete.sh" "$work/floor-run.sh $1"
		"$work/floor-delete.sh"
		return
	fi
	local b=${bins[$2]}
	timed "cold up -d, $1 services" "$(tool "$2")" -w 1 --prepare "$(berth_in "$b" "$work/p$1" down -t 0)" "$(berth_in "$b" "$work/p$1" up -d)"
	(cd "$work/p$1" && "$b" down -t 0 >/dev/null 2>&1)
}
noop_up() { # noop_up N TOOL_INDEX (berth only)
	local b=${bins[$2]}
	timed "no-op up -d, $1 services" "$(tool "$2")" -w 2 "$(berth_in "$b" "$work/p$1" up -d)"
	(cd "$work/p$1" && "$b" down -t 0 >/dev/null 2>&1)
}
recreate() { # recreate TOOL_INDEX
	if [ "$1" -lt 0 ]; then
		"$work/floor-run.sh" 1
		timed "recreate 1 of 10 (-t 0)" floor "$work/floor-recreate.sh"
		"$work/floor-delete.sh"
		return
	fi
	local b=${bins[$1]}
	timed "recreate 1 of 10 (-t 0)" "$(tool "$1")" -w 1 --prepare "$work/bump.sh" "$(berth_in "$b" "$work/p10" up -d -t 0)"
	(cd "$work/p10" && "$b" down -t 0 >/dev/null 2>&1)
}
down() { # down TOOL_INDEX
	if [ "$1" -lt 0 ]; then
		timed "down -t 0, 50 services" floor --prepare "$work/floor-reset.sh 50" "$work/floor-delete.sh"
		return
	fi
	local b=${bins[$1]}
	timed "down -t 0, 50 services" "$(tool "$1")" --prepare "$(berth_in "$b" "$work/p50" up -d)" "$(berth_in "$b" "$work/p50" down -t 0)"
}
version() { timed "berth version (process start)" "$(tool "$1")" -w 2 "${bins[$1]} version"; } # version TOOL_INDEX

if want lifecycle; then
	echo "== lifecycle" >&2
	for n in 10 50; do
		rotated floor cold_up "$n"
		rotated noop_up "$n"
	done
	rotated floor recreate
	rotated floor down
fi

if want noop && ! want lifecycle; then
	echo "== no-op up" >&2
	rotated version
	for n in 10 50; do rotated noop_up "$n"; done
fi

if want down && ! want lifecycle; then # lifecycle's down row alone
	echo "== down" >&2
	rotated floor down
fi

if want cpu; then
	# CPU of a cold up of 50: the tool's processes and its containers, counted
	# in cgroups (bench/cgcpu.py), so that the rest of the machine does not
	# count. Every tool runs once per round, in an order rotated each round
	# (a tool's runs in a row read lower or higher as the machine drifts);
	# the median of CPU_ROUNDS (default 5) rounds.
	cgcpu=$(cd "$(dirname "$0")" && pwd)/cgcpu.py
	cpu_tools=() cpu_ups=() cpu_downs=()
	cpu_tool() { cpu_tools+=("$1") cpu_ups+=("$2") cpu_downs+=("$3"); } # cpu_tool TOOL UP DOWN
	for i in "${!bins[@]}"; do
		cpu_tool "$(label "$i")" "cd $work/p50 && ${bins[$i]} up -d" "cd $work/p50 && ${bins[$i]} down -t 0"
	done
	cpu_tool floor "$work/floor-run.sh 50" "$work/floor-delete.sh"
	# The floor above installs no seccomp filter; berth installs Docker's
	# default profile. The same floor with that profile, as dockerd passes
	# it to runc, is the floor for the same work.
	(cd "$src" && go build -o "$work/seccompfloor" ./bench/internal/seccompfloor)
	bench_bundle "$work/sbundle"
	"$work/seccompfloor" "$work/sbundle/config.json"
	script floor-run-seccomp "for i in \$(seq 1 \$1); do $R run -d --bundle $work/sbundle ${fid}s\$i >/dev/null 2>&1 </dev/null; done"
	cpu_tool "floor+seccomp" "$work/floor-run-seccomp.sh 50" "$work/floor-delete.sh"
	# Debian's runc is an older libcontainer than the one berth links. The
	# same floor with runc built from berth's libcontainer (its version in
	# go.mod: runc-same), and that libcontainer starting all 50 from one
	# process (bench/internal/onestart: one-process), the floor of a shape
	# where one process starts many containers instead of one per
	# container (runc's, berth's shim).
	rv=$(go -C "$src" list -m -f '{{.Version}}' github.com/opencontainers/runc)
	GOBIN=$work/runc-same go install -tags seccomp "github.com/opencontainers/runc@$rv"
	go -C "$src" build -tags seccomp -o "$work/onestart" ./bench/internal/onestart
	bench_evict "$work/runc-same/runc" "$work/onestart"
	# Both keep their state under same_root, which Debian's runc may not
	# read; onestart's delete removes their containers.
	same_root=$work/same-root
	same_delete="$work/onestart $same_root delete"
	script floor-run-same "for i in \$(seq 1 \$1); do $work/runc-same/runc --root $same_root run -d --bundle $work/bundle ${fid}r\$i >/dev/null 2>&1 </dev/null; done"
	cpu_tool "runc-same ($rv)" "$work/floor-run-same.sh 50" "$same_delete"
	cpu_tool one-process "$work/onestart $same_root $work/bundle 50 ${fid}o" "$same_delete"
	n=${#cpu_tools[@]}
	declare -a cpu_vals
	for i in "${!cpu_tools[@]}"; do (eval "${cpu_downs[$i]}") >/dev/null 2>&1; done # a subshell: DOWN's cd stays in it
	for ((r = 0; r < ${CPU_ROUNDS:-5}; r++)); do
		for ((j = 0; j < n; j++)); do
			i=$(((j + r) % n))
			cpu_vals[i]+=" $("$cgcpu" "${cpu_ups[$i]}" "${cpu_downs[$i]}")"
		done
	done
	for i in "${!cpu_tools[@]}"; do
		# shellcheck disable=SC2046,SC2086 # the values, one per word; median, min, max
		record "CPU of a cold up -d, 50 services" "${cpu_tools[$i]}" $(bench_median_min_max ${cpu_vals[$i]}) CPU-s
	done
fi

if want memory; then
	echo "== memory" >&2
	# per_container TOOL UP DOWN: MemAvailable drop per container with 50
	# running, the median of 5 rounds.
	per_container() {
		# shellcheck disable=SC2046 # median, min, max
		record "host memory per running container (50 running)" "$1" $(bench_mem_drop 50 "$2" "$3") MB
	}
	# shims TOOL: RSS, PSS and private dirty memory of each berth shim of this root, medians (MB).
	shims() { bench_shim_mem "$1" "$BERTH_RUN_ROOT" >>"$results"; }
	for i in "${!bins[@]}"; do
		b=${bins[$i]} t=$(label "$i")
		per_container "$t" "(cd $work/p50 && $b up -d)" "(cd $work/p50 && $b down -t 0)"
		(cd "$work/p50" && "$b" up -d >/dev/null)
		sleep "${SETTLE:-3}" # shims go idle after a second of quiet
		shims "$t"
		(cd "$work/p50" && "$b" down -t 0 >/dev/null)
	done
	per_container floor "$work/floor-run.sh 50" "$work/floor-delete.sh"
	record "shim RSS per container" floor 0 0 0 MB
	record "shim PSS per container" floor 0 0 0 MB
	record "shim private dirty per container" floor 0 0 0 MB
fi

if want pull; then
	echo "== pull" >&2
	bench_registry
	mkdir -p "$work/pull"
	printf 'services:\n  big:\n    image: %s\n' "$ref" >"$work/pull/compose.yaml"
	pull() { # pull TOOL_INDEX
		if [ "$1" -lt 0 ]; then
			timed "pull + unpack, 200 MB in 8 layers" floor --prepare "sh -c 'rm -f $work/pull.tar && sync'" "$crane pull $ref $work/pull.tar"
			return
		fi
		timed "pull + unpack, 200 MB in 8 layers" "$(tool "$1")" --prepare "sh -c 'rm -rf $work/pullroot && sync'" \
			"env -C $work/pull BERTH_ROOT=$work/pullroot/root BERTH_RUN_ROOT=$work/pullroot/run ${bins[$1]} pull -q"
	}
	rotated floor pull
	rm -rf "$work/pullroot" "$work/pull.tar"
	# The disk writes the removal and the last round's layers out now, not
	# under the next rows: berth's commits are synced (the floor writes
	# nothing durably), and a sync waits for what the kernel still holds
	# (the published-port row read 200-220 ms alone, 276-289 ms after
	# this section).
	sync
fi

if want port; then
	echo "== published port" >&2
	# From the exec of `up -d` to the first HTTP answer on the published port,
	# timed by portwait (a fresh connection every 0.2 ms) with bench/web:1's
	# static Go server, which answers as soon as it runs. The floor: the same
	# three containers by bare runc, the server in the host's network (no
	# bridge, no NAT), from the exec of the first `runc run -d` to its answer.
	go -C "$src" build -o "$work/portwait" ./bench/internal/portwait
	mkdir -p "$work/webroot"
	cp -a "$work/rootfs/." "$work/webroot/"
	CGO_ENABLED=0 go -C "$src" build -o "$work/webroot/bin/hello" ./bench/internal/hello
	tar -C "$work/webroot" -cf "$work/web.tar" .
	"${bins[0]}" image import "$work/web.tar" bench/web:1 >/dev/null
	port=$((20000 + $$ % 10000))
	mkdir -p "$work/web"
	cat >"$work/web/compose.yaml" <<-EOF
		services:
		  web:
		    image: bench/web:1
		    command: ["hello", ":80"]
		    ports: ["127.0.0.1:$port:80"]
		    depends_on: [app]
		  app:
		    image: bench/web:1
		    command: ["sleep", "100000"]
		    depends_on: [db]
		  db:
		    image: bench/web:1
		    command: ["sleep", "100000"]
	EOF
	# portwaits TOOL PREPARE COMMAND: $per rounds of PREPARE, then portwait
	# ADDR COMMAND; adds the times it printed to the row's samples.
	portwaits() {
		local tool=$1 prepare=$2 cmd=$3 times=() t
		for _ in $(seq "$per"); do
			eval "$prepare" >/dev/null 2>&1 || true
			t=$(eval "$work/portwait 127.0.0.1:$port $cmd" 2>/dev/null) || { echo "failed: published port, $tool" >&2; exit 1; }
			times+=("$t")
		done
		printf '%s\t%s%s\n' "published port answers, from the start of up -d" "$tool" "$(printf '\t%s' "${times[@]}")" >>"$samples"
	}
	web() { # web TOOL_INDEX
		if [ "$1" -lt 0 ]; then
			portwaits floor "$work/floor-delete.sh" "$work/floor-web.sh"
			"$work/floor-delete.sh"
			return
		fi
		portwaits "$(tool "$1")" "(cd $work/web && ${bins[$1]} down -t 0)" "env -C $work/web ${bins[$1]} up -d"
		(cd "$work/web" && "${bins[$1]}" down -t 0 >/dev/null 2>&1)
	}
	cat >"$work/fweb.py" <<-'EOF'
		import json, sys
		c = json.load(open("config.json"))
		c["process"]["terminal"] = False
		c["root"] = {"path": sys.argv[3], "readonly": True}
		if sys.argv[1] == "web":
		    c["process"]["args"] = ["hello", "127.0.0.1:" + sys.argv[2]]
		    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
		else:
		    c["process"]["args"] = ["sleep", "100000"]
		json.dump(c, open("config.json", "w"))
	EOF
	for c in db app web; do
		mkdir -p "$work/fweb/$c"
		(cd "$work/fweb/$c" && runc spec && python3 "$work/fweb.py" "$c" "$port" "$work/webroot")
	done
	script floor-web "for c in db app web; do $R run -d --bundle $work/fweb/\$c ${fid}web\$c >/dev/null 2>&1 </dev/null; done"
	rotated floor web
fi

# The table: each row, each tool's median (min–max) and its ratio to the
# floor.
bench_table "$results"
cat <<EOF

floor: bare runc (N × runc run -d; delete -f + run -d; N × runc delete -f; 50 runc containers' memory)
(floor+seccomp: the CPU row's floor with Docker's default seccomp profile, which berth installs too;
runc-same: runc built from the libcontainer berth links; one-process: that libcontainer starting
all 50 from one process, the floor of one starting process for many containers)
and crane pull to a tarball (download only); it has no no-op up and no shim (0); its published
port is the three containers by runc, the server in the host network. × is each median over the floor's.
EOF
