//go:build linux && cgo && (amd64 || arm64 || loong64 || ppc64le)

package hugeheap

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	berthruntime "github.com/berth-dev/berth/runtime"
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

// thpNever reports whether the host's transparent huge pages are off.
func thpNever(t *testing.T) bool {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(mode, []byte("[never]"))
}

// The heap is marked for huge pages from its first mapping on, and the
// mappings the runtime makes as it grows are marked too: the first
// object's and one allocated after the heap grew by 64 MiB each lie in a
// mapping flagged "hg" (MADV_HUGEPAGE) that holds huge pages.
func TestHeapIsOnHugePages(t *testing.T) {
	first := new([64]byte)
	var grown []*[1 << 20]byte
	for range 64 {
		grown = append(grown, new([1 << 20]byte))
	}
	later := new([64]byte)
	for _, obj := range []struct {
		name string
		p    unsafe.Pointer
	}{{"first", unsafe.Pointer(first)}, {"grown", unsafe.Pointer(grown[len(grown)-1])}, {"later", unsafe.Pointer(later)}} {
		ptr := (*byte)(obj.p)
		*ptr = 1 // touched
		flags, huge := mapping(t, uintptr(obj.p))
		if !slices.Contains(flags, "hg") {
			t.Errorf("the mapping of the %s object has flags %q, want hg (MADV_HUGEPAGE)", obj.name, flags)
		}
		if !thpNever(t) && huge < 2048 {
			t.Errorf("the mapping of the %s object holds %d kB of huge pages, want at least 2048", obj.name, huge)
		}
	}
	runtime.KeepAlive(grown)
}

// Each of runtime.Reexec's roles is decided: berth's short-lived
// processes (a command, the starter, a container's init) are marked, its
// long-lived supervisor (the shim) and an exec's helper are not, and
// BERTH_HUGE_HEAP=off leaves a command alone.
func TestRolesAndSwitch(t *testing.T) {
	want := map[string]bool{"": true, "up": true, "init": true, "starter": true, "shim": false, "execproc": false}
	for _, role := range berthruntime.ReexecRoles() {
		if _, ok := want[role]; !ok {
			t.Errorf("runtime.Reexec's role %q is not decided here", role)
		}
	}
	for arg, marked := range want {
		if got := child(t, arg); got != marked {
			t.Errorf("run with first argument %q: marked %v, want %v", arg, got, marked)
		}
	}
	if child(t, "up", Env+"=off") {
		t.Errorf("with %s=off the heap is marked", Env)
	}
}

// child runs the test binary with first argument arg (none when "") and
// env added, and reports whether its heap's mapping is marked, as it sees
// it.
func child(t *testing.T, arg string, env ...string) bool {
	var args []string
	if arg != "" {
		args = append(args, arg)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q %q: %v\n%s", arg, env, err, out)
	}
	var hg bool
	if _, err := fmt.Sscanf(string(out), "hg=%t", &hg); err != nil {
		t.Fatalf("%q %q: the child said %q", arg, env, out)
	}
	return hg
}

// childEnv makes the test binary TestRolesAndSwitch's child, which prints
// whether its heap's mapping has the flag, whatever its arguments.
const childEnv = "HUGEHEAP_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		obj := new([64]byte)
		flags, _ := mapping(nil, uintptr(unsafe.Pointer(obj)))
		fmt.Printf("hg=%t\n", slices.Contains(flags, "hg"))
		return
	}
	os.Exit(m.Run())
}

// A small anonymous mapping (the runtime's off-heap chunks) is resident
// before its first touch in a marked process but a container's init: the
// probe maps through the C library, as the runtime does, and counts its
// resident pages. A larger one, and any in a process left alone, is not.
func TestSmallMappingsArePopulated(t *testing.T) {
	bin := t.TempDir() + "/probe"
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/probe").CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}
	const chunk, page = 256 << 10, 4 << 10
	sizes := []string{strconv.Itoa(chunk), strconv.Itoa(chunk + page)}
	for _, c := range []struct {
		role string
		env  []string
		want string // resident pages of each size
	}{
		{"up", nil, "64 0"},
		{"starter", nil, "64 0"},
		{"init", nil, "0 0"},
		{"shim", nil, "0 0"},
		{"execproc", nil, "0 0"},
		{"up", []string{Env + "=off"}, "0 0"},
	} {
		cmd := exec.Command(bin, append([]string{c.role}, sizes...)...)
		cmd.Env = append(os.Environ(), c.env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("the probe as %q %q: %v", c.role, c.env, err)
		}
		var got []string
		for line := range strings.Lines(string(out)) {
			if _, resident, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
				got = append(got, resident)
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("run as %q %q: resident pages of %s bytes %q, want %q", c.role, c.env, sizes, got, c.want)
		}
	}
}
