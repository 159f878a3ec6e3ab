//go:build linux && cgo && seccomp

package runtime

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestCompactSeccompSameBPF compiles each case's filter before and after
// compactSeccomp with libseccomp, as libcontainer adds the rules in each
// container's init, and runs both programs on x86_64 and i386 system
// calls (every number below 520, and the argument grid of each call with
// conditions): they must return the same action everywhere.
func TestCompactSeccompSameBPF(t *testing.T) {
	arches := map[string]uint32{"amd64": unix.AUDIT_ARCH_X86_64, "x86": unix.AUDIT_ARCH_I386}
	for name, p := range seccompCases(t) {
		t.Run(name, func(t *testing.T) {
			before, after := compileSeccomp(t, p), compileSeccomp(t, compactSeccomp(p))
			probes := 0
			check := func(arch string, nr uint32, args [6]uint64) {
				in := seccompData(arches[arch], nr, args)
				b, errB := before.Run(in)
				a, errA := after.Run(in)
				if errB != nil || errA != nil {
					t.Fatalf("running the filters: %v, %v", errB, errA)
				}
				if a != b {
					t.Errorf("%s system call %d%v: %#x before, %#x after", arch, nr, args, b, a)
				}
				probes++
			}
			for arch := range arches {
				for nr := range uint32(520) {
					check(arch, nr, [6]uint64{})
				}
				sa, err := libseccomp.GetArchFromString(arch)
				if err != nil {
					t.Fatal(err)
				}
				for n := range rulesByName(p.Syscalls) {
					nr, err := libseccomp.GetSyscallFromNameByArch(n, sa)
					if err != nil || nr < 0 {
						continue // not a system call of this architecture
					}
					for _, args := range argGrid(p, n) {
						check(arch, uint32(nr), args)
					}
				}
			}
			t.Logf("%d probes", probes)
		})
	}
}

// compileSeccomp builds p's filter with libseccomp as libcontainer's
// InitSeccomp does (same conversion, rule for rule, same optimisation),
// exports it instead of loading it, and returns a machine running it.
func compileSeccomp(t testing.TB, p *specs.LinuxSeccomp) *bpf.VM {
	t.Helper()
	cfg, err := specconv.SetupSeccomp(p)
	if err != nil {
		t.Fatal(err)
	}
	def := scmpAction(t, cfg.DefaultAction, cfg.DefaultErrnoRet)
	f, err := libseccomp.NewFilter(def)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	for _, a := range cfg.Architectures {
		sa, err := libseccomp.GetArchFromString(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.AddArch(sa); err != nil {
			t.Fatal(err)
		}
	}
	if len(cfg.Syscalls) > 32 {
		if err := f.SetOptimize(2); err != nil {
			t.Fatal(err)
		}
	}
	for _, call := range cfg.Syscalls {
		act := scmpAction(t, call.Action, call.ErrnoRet)
		if act == def {
			continue
		}
		nr, err := libseccomp.GetSyscallFromName(call.Name)
		if err != nil {
			continue
		}
		var conds []libseccomp.ScmpCondition
		seen := map[uint]bool{}
		split := false
		for _, a := range call.Args {
			c, err := libseccomp.MakeCondition(a.Index, scmpOp(t, a.Op), a.Value, a.ValueTwo)
			if err != nil {
				t.Fatal(err)
			}
			conds = append(conds, c)
			split = split || seen[a.Index]
			seen[a.Index] = true
		}
		switch {
		case len(conds) == 0:
			err = f.AddRule(nr, act)
		case split:
			for _, c := range conds {
				if err = f.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
					break
				}
			}
		default:
			err = f.AddRuleConditional(nr, act, conds)
		}
		if err != nil {
			t.Fatalf("adding a rule for %s: %v", call.Name, err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	done := make(chan error, 1)
	go func() { _, err := io.Copy(&buf, r); done <- err }()
	err = f.ExportBPF(w)
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]bpf.RawInstruction, buf.Len()/8)
	if err := binary.Read(&buf, binary.NativeEndian, raw); err != nil {
		t.Fatal(err)
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("could not disassemble the filter")
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// seccompData is a struct seccomp_data as the filter reads it. The VM
// loads 32-bit words big-endian, so each word is stored that way at the
// offset the kernel's little-endian layout gives it.
func seccompData(arch, nr uint32, args [6]uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[0:], nr)
	binary.BigEndian.PutUint32(b[4:], arch)
	for i, a := range args {
		binary.BigEndian.PutUint32(b[16+8*i:], uint32(a))
		binary.BigEndian.PutUint32(b[20+8*i:], uint32(a>>32))
	}
	return b
}

func scmpAction(t testing.TB, a configs.Action, errno *uint) libseccomp.ScmpAction {
	switch a {
	case configs.Allow:
		return libseccomp.ActAllow
	case configs.Errno:
		if errno != nil {
			return libseccomp.ActErrno.SetReturnCode(int16(*errno))
		}
		return libseccomp.ActErrno.SetReturnCode(int16(unix.EPERM))
	}
	t.Fatalf("action %v not used by the cases", a)
	return 0
}

func scmpOp(t testing.TB, op configs.Operator) libseccomp.ScmpCompareOp {
	switch op {
	case configs.EqualTo:
		return libseccomp.CompareEqual
	case configs.NotEqualTo:
		return libseccomp.CompareNotEqual
	case configs.GreaterThan:
		return libseccomp.CompareGreater
	case configs.GreaterThanOrEqualTo:
		return libseccomp.CompareGreaterEqual
	case configs.LessThan:
		return libseccomp.CompareLess
	case configs.LessThanOrEqualTo:
		return libseccomp.CompareLessOrEqual
	case configs.MaskEqualTo:
		return libseccomp.CompareMaskedEqual
	}
	t.Fatalf("operator %v", op)
	return 0
}

// BenchmarkSeccompFilter times what Docker's default profile costs each
// container: in the shim, applySeccomp (the profile for the container's
// capabilities, from moby/profiles, and its compaction); in the init,
// libseccomp adding the rules and generating the program as libcontainer
// does (without the final load), for the profile as moby/profiles gives
// it and as applySeccomp compacts it. Not root:
// go test -tags seccomp -run '^$' -bench SeccompFilter ./runtime
func BenchmarkSeccompFilter(b *testing.B) {
	caps := slices.Clone(defaultCapabilities)
	spec := func() *specs.Spec {
		return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}}, Linux: &specs.Linux{}}
	}
	docker, err := seccomp.GetDefaultProfile(spec())
	if err != nil {
		b.Fatal(err)
	}
	if !x32ABI() {
		docker.Architectures = withoutX32(docker.Architectures)
	}
	applied := spec()
	if err := applySeccomp(applied, Security{}); err != nil {
		b.Fatal(err)
	}
	b.Run("shim", func(b *testing.B) {
		for b.Loop() {
			_ = applySeccomp(spec(), Security{})
		}
	})
	for name, p := range map[string]*specs.LinuxSeccomp{"init/docker": docker, "init/compacted": applied.Linux.Seccomp} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				compileSeccomp(b, p)
			}
		})
	}
}
