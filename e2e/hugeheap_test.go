package e2e

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// A container's init and the starter have their Go heap on huge pages,
// and the starter its code mapped whole from its start; a container's
// shim, which lives as long as the container, has neither
// (internal/hugeheap). held is prepared and held while first's post_start
// hook waits for the test, so its init (libcontainer's, not yet the
// workload) can be looked at, and it starts under Docker's smallest memory
// limit all the same (a huge page its cgroup refuses is 4 KiB pages);
// checked has a health check, so a Go shim for its whole life (an idle
// shim is berth-idle, whose heap is no Go heap).
func TestHugePagesForShortLivedProcessesOnly(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  first:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    volumes: ["./flag:/flag"]
    post_start:
      - command: ["sh", "-c", "while [ ! -e /flag/go ]; do sleep 0.05; done"]
  held:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    depends_on: [first]
    mem_limit: 6m
  checked:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    healthcheck: {test: ["CMD", "true"], interval: 1s}
`, "-t", "0")
	if err := os.Mkdir(filepath.Join(u.dir, "flag"), 0o755); err != nil {
		t.Fatal(err)
	}
	up := u.start("up", "-d")

	waitFor(t, "held's init, its heap marked for huge pages", func() bool {
		init, _ := procsOf(u, u.project+"-held-1")
		marked := false
		if len(init) == 1 {
			marked, _ = hugeMarked(init[0]) // gone meanwhile: a stage of its making
		}
		return marked
	})
	var starter []int // not its reaper (berth-idle), whose arguments hold the starter's
	for _, pid := range pidsOf(t, " starter ", u.root) {
		if goRuntime(pid) {
			starter = append(starter, pid)
		}
	}
	if len(starter) != 1 {
		t.Fatalf("want one starter, found %v", starter)
	}
	if marked, err := hugeMarked(starter[0]); err != nil || !marked {
		t.Errorf("the starter (%d) has no mapping marked for huge pages (%v)", starter[0], err)
	}
	if rss, size := codeResident(t, starter[0]); rss != size {
		t.Errorf("the starter (%d) has %d of its %d kB of code mapped, want all", starter[0], rss, size)
	}

	if err := os.WriteFile(filepath.Join(u.dir, "flag", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	up.end("once first's hook was let go")
	shim := pidsOf(t, " shim "+u.project+"-checked-1 ", u.root)
	if len(shim) != 1 {
		t.Fatalf("want one shim of checked, found %v", shim)
	}
	if !goRuntime(shim[0]) {
		t.Fatalf("checked's shim (%d) is not the Go shim (berth-runtime)", shim[0])
	}
	if marked, err := hugeMarked(shim[0]); err != nil || marked {
		t.Errorf("checked's shim (%d) has its heap marked for huge pages (%v)", shim[0], err)
	}
	if rss, size := codeResident(t, shim[0]); rss == size {
		t.Errorf("checked's shim (%d) has all its %d kB of code mapped, want what it touched", shim[0], size)
	}
}

// codeResident is what /proc/PID/smaps says of process pid's code (its
// program's executable mapping): how much of it is mapped, and its size,
// in kB.
func codeResident(t *testing.T, pid int) (rss, size int) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") {
			in = len(fields) == 6 && fields[1] == "r-xp" && strings.HasPrefix(fields[5], "/")
			continue
		}
		switch {
		case in && fields[0] == "Size:":
			size, _ = strconv.Atoi(fields[1])
		case in && fields[0] == "Rss:":
			rss, _ = strconv.Atoi(fields[1])
			return rss, size
		}
	}
	t.Fatalf("process %d has no code mapping", pid)
	return 0, 0
}

// goRuntime reports whether process pid runs berth-runtime, the Go
// program (berth-idle, a supervisor gone idle or the starter's reaper,
// shows the same arguments).
func goRuntime(pid int) bool {
	comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return string(comm) == "berth-runtime\n"
}

// hugeMarked reports whether a mapping of process pid is marked for huge
// pages (VmFlags "hg": MADV_HUGEPAGE), as only the Go heap of a berth
// process is (its C library and the workload's ask none).
func hugeMarked(pid int) (bool, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		return false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if flags, ok := strings.CutPrefix(sc.Text(), "VmFlags:"); ok && strings.Contains(flags+" ", " hg ") {
			return true, nil
		}
	}
	return false, nil
}
