//go:build linux && (amd64 || arm64)

package hugeheap

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/berth-dev/berth/runtime"
)

// mapping is what /proc/self/smaps says of the mapping holding addr: its
// flags, and its anonymous huge pages in kB.
func mapping(t testing.TB, addr uintptr) (flags []string, hugeKB int) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok {
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = uint64(addr) >= a && uint64(addr) < b
				continue
			}
		}
		switch {
		case in && fields[0] == "AnonHugePages:":
			hugeKB, _ = strconv.Atoi(fields[1])
		case in && fields[0] == "VmFlags:":
			return fields[1:], hugeKB
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return nil, 0 // not reached
}

// Once the package's init ran, the heap's first region is a huge page and
// the heap's mapping is marked for more (VmFlags "hg").
func TestHeapStartsOnAHugePage(t *testing.T) {
	if thpNever() {
		t.Skip("transparent huge pages are off on this host")
	}
	switch collapseErr {
	case syscall.EINVAL, syscall.EAGAIN, syscall.ENOMEM:
		t.Skipf("no huge page to be had here: MADV_COLLAPSE: %v", collapseErr)
	}
	if collapsed == 0 {
		t.Fatalf("the heap's first region was not collapsed into a huge page: %v", collapseErr)
	}
	flags, huge := mapping(t, collapsed)
	if !slices.Contains(flags, "hg") {
		t.Errorf("the heap's mapping has flags %q, want hg (MADV_HUGEPAGE)", flags)
	}
	if huge < 2048 {
		t.Errorf("the heap's mapping has %d kB of huge pages, want at least 2048", huge)
	}
}

// The roles left alone are those runtime.Reexec takes.
func TestReexecRolesLeftAlone(t *testing.T) {
	if got, want := reexecRoles, runtime.ReexecRoles(); !slices.Equal(got, want) {
		t.Errorf("roles left alone %q, runtime.Reexec's %q", got, want)
	}
}

// With BERTH_HUGE_HEAP=off, or run as a shim or a container init, the
// init asks nothing: such a process reports no region collapsed and a heap
// mapping not marked.
func TestOffLeavesTheHeapAlone(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
	}{
		{env: Env + "=off"},
		{args: []string{"shim"}},
		{args: []string{"init"}},
	} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "collapsed=0 hg=false" {
			t.Errorf("%s %q: %v\n%s", tc.env, tc.args, err, out)
		}
	}
}

// childEnv makes the test binary TestOffLeavesTheHeapAlone's child, which
// prints what the init did to the heap's first mapping, whatever its
// arguments.
const childEnv = "HUGEHEAP_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		obj := new([64]byte)
		flags, _ := mapping(nil, uintptr(unsafe.Pointer(obj)))
		fmt.Printf("collapsed=%d hg=%v\n", collapsed, slices.Contains(flags, "hg"))
		return
	}
	os.Exit(m.Run())
}
