//go:build linux && cgo && seccomp

package runtime

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/berth-dev/berth/internal/seccache"
	"github.com/berth-dev/berth/internal/testutil"
	"github.com/opencontainers/runc/libcontainer/configs"
	lcseccomp "github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// seccompChildEnv makes the test binary a stand-in for a container's init
// (see seccompChild): the value is a file holding the filter's
// libcontainer configuration.
const seccompChildEnv = "BERTH_SECCACHE_TEST_CHILD"

func init() {
	if f := os.Getenv(seccompChildEnv); f != "" {
		seccompChild(f)
	}
}

// seccompChild does what a container's init does about seccomp: takes its
// shim's offer (fd 3) and installs the filter with libcontainer's
// InitSeccomp. It prints its cache counters, then waits for its stdin to
// end, its filter read meanwhile (see loadedFilter). Raw system calls
// only after the load: a custom profile may deny the rest.
func seccompChild(cfgFile string) {
	b, err := os.ReadFile(cfgFile)
	var cfg configs.Seccomp
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	seccache.Arm()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	goruntime.LockOSThread()
	_, err = lcseccomp.InitSeccomp(&cfg)
	s := seccache.ReadStats()
	line := fmt.Sprintf("hits=%d exports=%d rules=%d err=%v\n", s.Hits, s.RealExports, s.RealRules, err)
	_, _ = unix.Write(1, []byte(line))
	var buf [1]byte
	for {
		if n, err := unix.Read(0, buf[:]); n == 0 && err != unix.EINTR {
			unix.Exit(0)
		}
	}
}

// seccompCacheCustom is a custom profile with conditions on arguments
// that a Go process (the stand-in init) survives.
const seccompCacheCustom = `{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  "syscalls": [
    {"names": ["mkdir", "mkdirat", "unshare"], "action": "SCMP_ACT_ERRNO"},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_LT"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_GT"}, {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
    {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 4294967296, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}
  ]
}`

// seccompCacheCases are the filters as berth hands them to libcontainer
// (applySeccomp: compacted, x32 as the kernel has it) for Docker's
// default profile, with cap_add SYS_ADMIN, and a custom profile.
func seccompCacheCases(t *testing.T) map[string]seccompCacheCase {
	t.Helper()
	out := map[string]seccompCacheCase{}
	for name, c := range map[string]struct {
		caps    []string
		profile string
	}{
		"default":           {caps: defaultCapabilities},
		"cap_add SYS_ADMIN": {caps: append(append([]string{}, defaultCapabilities...), "CAP_SYS_ADMIN")},
		"custom":            {caps: defaultCapabilities, profile: seccompCacheCustom},
	} {
		sp := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: c.caps, Effective: c.caps, Permitted: c.caps}}, Linux: &specs.Linux{}}
		if err := applySeccomp(sp, Security{Seccomp: c.profile}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cfg, err := specconv.SetupSeccomp(sp.Linux.Seccomp)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = seccompCacheCase{profile: sp.Linux.Seccomp, cfg: cfg}
	}
	return out
}

type seccompCacheCase struct {
	profile *specs.LinuxSeccomp
	cfg     *configs.Seccomp
}

// loadedFilter runs a stand-in init (seccompChild) for cfg, offered what
// dir keeps for it unless off, and returns the filter the kernel holds
// for it (read with PTRACE_SECCOMP_GET_FILTER) and its cache counters.
func loadedFilter(t *testing.T, cfg *configs.Seccomp, dir string, off bool) ([]byte, string) {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := t.TempDir() + "/seccomp.json"
	if err := os.WriteFile(cfgFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var offer *seccache.Offer
	if !off {
		if offer, err = seccache.NewOffer(dir, cfg); err != nil || offer == nil {
			t.Fatalf("offer: %v, %v", offer, err)
		}
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), seccompChildEnv+"="+cfgFile, "_LIBCONTAINER_INITTYPE=standard")
	if offer != nil {
		cmd.ExtraFiles = []*os.File{offer.File()}
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("stand-in init: %v (%q)", err, line)
	}
	offer.Collect()
	if !strings.Contains(line, "err=<nil>") {
		t.Fatalf("stand-in init: %s", line)
	}
	return filterOf(t, cmd.Process.Pid), strings.TrimSpace(line)
}

// filterOf returns the seccomp filter of process pid, stopping it with
// ptrace meanwhile.
func filterOf(t *testing.T, pid int) []byte {
	t.Helper()
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	if err := unix.PtraceSeize(pid); err != nil {
		t.Fatalf("ptrace: %v", err)
	}
	defer func() { _ = unix.PtraceDetach(pid) }()
	if err := unix.PtraceInterrupt(pid); err != nil {
		t.Fatalf("ptrace: %v", err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil || !ws.Stopped() {
		t.Fatalf("waiting for the stop: %v, %v", err, ws)
	}
	get := func(buf []unix.SockFilter) int {
		var p uintptr
		if len(buf) > 0 {
			p = uintptr(unsafe.Pointer(&buf[0]))
		}
		n, _, errno := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), 0, p, 0, 0)
		if errno != 0 {
			t.Fatalf("PTRACE_SECCOMP_GET_FILTER: %v", errno)
		}
		return int(n)
	}
	prog := make([]unix.SockFilter, get(nil))
	get(prog)
	return unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), len(prog)*int(unsafe.Sizeof(prog[0])))
}

// TestSeccompCacheSameFilter loads each case's filter as a container's
// init does, with libcontainer's InitSeccomp: on a miss (libseccomp
// compiles, the entry is kept), on a hit (libseccomp adds no rule and
// generates nothing), and offered entries that must not be used (another
// filter's, one with a changed log, a damaged one). On a hit the kernel
// holds, byte for byte, the filter of the miss that made the entry.
// libseccomp 2.5.4's own output varies between processes (the order of the
// architecture checks), so every load is also run against the filter
// loaded without the cache, on every system call number below 520 of
// x86_64 and i386 and the argument grid of each rule: the same action
// everywhere.
func TestSeccompCacheSameFilter(t *testing.T) {
	testutil.RequiresRoot(t) // PTRACE_SECCOMP_GET_FILTER
	cases := seccompCacheCases(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			off, _ := loadedFilter(t, c.cfg, dir, true)
			load := func(what, wantStats string) []byte {
				t.Helper()
				got, stats := loadedFilter(t, c.cfg, dir, false)
				if !strings.HasPrefix(stats, wantStats) {
					t.Errorf("%s: %s, want %s", what, stats, wantStats)
				}
				sameActions(t, what, c.profile, off, got)
				return got
			}
			miss := load("miss", "hits=0 exports=1")
			path := seccache.EntryPath(dir, c.cfg)
			kept := readEntry(t, path)
			if ino := libseccompInode(t); !bytes.Contains(kept.Log[:256], binary.NativeEndian.AppendUint64(nil, ino)) {
				t.Errorf("the log does not name libseccomp's file (inode %d)", ino)
			}
			if !bytes.HasSuffix(miss, kept.BPF) {
				t.Fatal("the kept program is not the one the miss loaded")
			}
			// libcontainer puts its -ENOSYS stub before libseccomp's program;
			// the stub's order of architectures varies (a Go map), the
			// program must not.
			if !bytes.HasSuffix(off, kept.BPF) {
				t.Error("libseccomp's program loaded without the cache is not the kept one")
			}
			for _, what := range []string{"hit", "hit again"} {
				if hit := load(what, "hits=1 exports=0 rules=0"); !bytes.HasSuffix(hit, kept.BPF) || len(hit) != len(miss) {
					t.Errorf("%s: the kernel holds a different program (%d bytes) than the miss (%d)", what, len(hit), len(miss))
				}
			}

			// Another filter's entry, kept under this one's name.
			for other, o := range cases {
				if other != name {
					odir := t.TempDir()
					loadedFilter(t, o.cfg, odir, false)
					opath := seccache.EntryPath(odir, o.cfg)
					writeEntry(t, path, readEntry(t, opath))
					break
				}
			}
			load("another filter's entry", "hits=0 exports=1")
			// A log differing in one byte (a rule's argument), checksum right.
			e := readEntry(t, path)
			e.Log = bytes.Clone(e.Log)
			e.Log[len(e.Log)-10] ^= 1
			writeEntry(t, path, e)
			load("a changed log", "hits=0 exports=1")
			// A damaged program: the checksum no longer matches, not offered.
			b := kept.Marshal()
			b[len(b)-3] ^= 0x40
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			load("a damaged entry", "hits=0 exports=1")
			load("kept again", "hits=1 exports=0 rules=0")
		})
	}
}

// sameActions runs the loaded filters want and got on every system call
// number below 520 of x86_64 and i386, and on p's argument grid for the
// calls its rules name: they must return the same action everywhere.
func sameActions(t *testing.T, what string, p *specs.LinuxSeccomp, want, got []byte) {
	t.Helper()
	vm := func(b []byte) *bpf.VM {
		raw := make([]bpf.RawInstruction, len(b)/8)
		if err := binary.Read(bytes.NewReader(b), binary.NativeEndian, raw); err != nil {
			t.Fatal(err)
		}
		prog, ok := bpf.Disassemble(raw)
		if !ok {
			t.Fatal("could not disassemble the filter")
		}
		m, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	w, g := vm(want), vm(got)
	bad := 0
	check := func(arch uint32, nr uint32, args [6]uint64) {
		in := seccompData(arch, nr, args)
		a, errA := w.Run(in)
		b, errB := g.Run(in)
		if (errA != nil || errB != nil || a != b) && bad < 5 {
			bad++
			t.Errorf("%s: arch %#x call %d%v: %#x (%v) without the cache, %#x (%v) with", what, arch, nr, args, a, errA, b, errB)
		}
	}
	for _, arch := range []string{"amd64", "x86"} {
		sa, err := libseccomp.GetArchFromString(arch)
		if err != nil {
			t.Fatal(err)
		}
		audit := map[string]uint32{"amd64": unix.AUDIT_ARCH_X86_64, "x86": unix.AUDIT_ARCH_I386}[arch]
		for nr := range uint32(520) {
			check(audit, nr, [6]uint64{})
		}
		for n := range rulesByName(p.Syscalls) {
			nr, err := libseccomp.GetSyscallFromNameByArch(n, sa)
			if err != nil || nr < 0 {
				continue
			}
			for _, args := range argGrid(p, n) {
				check(audit, uint32(nr), args)
			}
		}
	}
}

// libseccompInode is the inode of the libseccomp this process runs.
func libseccompInode(t *testing.T) uint64 {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(maps), "\n") {
		if f := strings.Fields(l); len(f) == 6 && strings.Contains(f[5], "/libseccomp.so") {
			var st unix.Stat_t
			if err := unix.Stat(f[5], &st); err != nil {
				t.Fatal(err)
			}
			return st.Ino
		}
	}
	t.Fatal("libseccomp not mapped")
	return 0
}

func readEntry(t *testing.T, path string) seccache.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no entry kept: %v", err)
	}
	e, err := seccache.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func writeEntry(t *testing.T, path string, e seccache.Entry) {
	t.Helper()
	if err := os.WriteFile(path, e.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
}
