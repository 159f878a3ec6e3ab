package runtime

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// customProfile is a profile in Docker's format whose rules compactSeccomp
// must handle: alternatives on one argument (with a name shared by two
// rules and overlapping values), values too large or infinite to rewrite,
// two conditions on one argument (which runc turns into alternatives),
// conditions on two arguments, an action other than allow, and a name
// whose rules all name another that cannot be rewritten (tee).
const customProfile = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
  "syscalls": [
    {"names": ["read", "write", "socketcall"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["socket", "prctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_LT"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 17, "op": "SCMP_CMP_LE"}]},
    {"names": ["prctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    {"names": ["prctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 9, "op": "SCMP_CMP_EQ"}]},
    {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 4294967296, "op": "SCMP_CMP_EQ"}]},
    {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 3, "op": "SCMP_CMP_EQ"}]},
    {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_GT"}]},
    {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]},
    {"names": ["fcntl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 4, "op": "SCMP_CMP_EQ"}]},
    {"names": ["fcntl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]},
    {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 3, "op": "SCMP_CMP_EQ"}]},
    {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
    {"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
    {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
    {"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
    {"names": ["tee", "readv"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
    {"names": ["tee", "writev"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
    {"names": ["readv", "writev"], "action": "SCMP_ACT_ALLOW"}
  ]
}`

// seccompCases are the filters whose compaction must not change what
// they allow: Docker's default profile for Docker's capabilities, widened
// by cap_add SYS_ADMIN (its includes.caps rules), for every capability,
// and a custom profile.
func seccompCases(t testing.TB) map[string]*specs.LinuxSeccomp {
	t.Helper()
	withCaps := func(caps ...string) *specs.Spec {
		return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}}, Linux: &specs.Linux{}}
	}
	docker := slices.Clone(defaultCapabilities)
	all := slices.Concat(docker, []string{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
		"CAP_SYS_PACCT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_SYSLOG", "CAP_DAC_READ_SEARCH",
		"CAP_LINUX_IMMUTABLE", "CAP_NET_ADMIN", "CAP_NET_BROADCAST", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_LEASE", "CAP_AUDIT_CONTROL",
		"CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"})
	out := map[string]*specs.LinuxSeccomp{}
	for name, sp := range map[string]*specs.Spec{"default": withCaps(docker...), "cap_add SYS_ADMIN": withCaps(slices.Concat(docker, []string{"CAP_SYS_ADMIN"})...), "all caps": withCaps(all...)} {
		p, err := seccomp.GetDefaultProfile(sp)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = p
	}
	p, err := seccomp.LoadProfile(customProfile, withCaps(docker...))
	if err != nil {
		t.Fatalf("custom: %v", err)
	}
	out["custom"] = p
	return out
}

// TestCompactSeccompSameSemantics checks, for every system call and a
// grid of argument values, that the compacted filter takes the same
// action as the original, as runc reads the rules (all of a rule's
// conditions must hold, except that several on one argument are
// alternatives); the filters libseccomp compiles from both are compared
// in seccomp_bpf_test.go.
func TestCompactSeccompSameSemantics(t *testing.T) {
	for name, p := range seccompCases(t) {
		t.Run(name, func(t *testing.T) {
			before := slices.Clone(p.Syscalls) // with names and arguments of its own
			for i := range before {
				before[i].Names, before[i].Args = slices.Clone(before[i].Names), slices.Clone(before[i].Args)
			}
			c := compactSeccomp(p)
			if !slices.EqualFunc(before, p.Syscalls, func(a, b specs.LinuxSyscall) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
				t.Fatal("compactSeccomp changed its argument")
			}
			if c.DefaultAction != p.DefaultAction || !slices.Equal(c.Architectures, p.Architectures) || fmt.Sprint(c.DefaultErrnoRet) != fmt.Sprint(p.DefaultErrnoRet) {
				t.Fatal("compactSeccomp changed more than the rules")
			}
			names := map[string]bool{}
			for _, sc := range p.Syscalls {
				for _, n := range sc.Names {
					names[n] = true
				}
			}
			for n := range names {
				for _, args := range argGrid(p, n) {
					if want, got := ruleActions(p, n, args), ruleActions(c, n, args); want != got {
						t.Errorf("%s%v: %s before, %s after", n, args, want, got)
					}
				}
			}
		})
	}
}

// TestCompactSeccompShrinksDockers checks that the rewrite happens where
// it pays: Docker's socket and personality alternatives.
func TestCompactSeccompShrinksDockers(t *testing.T) {
	p := seccompCases(t)["default"]
	c := compactSeccomp(p)
	for n, most := range map[string]int{"socket": 15, "personality": 2} {
		before, after := len(rulesByName(p.Syscalls)[n]), len(rulesByName(c.Syscalls)[n])
		if after > most || after >= before {
			t.Errorf("%s: %d rules before, %d after, want at most %d", n, before, after, most)
		}
	}
	if c := compactSeccomp(seccompCases(t)["custom"]); len(rulesByName(c.Syscalls)["ioctl"]) != 2 || len(rulesByName(c.Syscalls)["kill"]) != 2 {
		t.Error("rules admitting a value of 2^32 or more, or infinitely many, were rewritten")
	}
}

// argGrid lists argument vectors probing every value a rule for name
// compares with, its neighbours, small values and the 32-bit edges, on
// each argument a rule looks at.
func argGrid(p *specs.LinuxSeccomp, name string) [][6]uint64 {
	probe := map[uint64]bool{1 << 32: true, 1<<32 | 2: true, 0xffffffff: true, 0xfffffffe: true, 1 << 63: true, ^uint64(0): true, 0x20000: true, 0x20008: true, 0x20009: true}
	for v := range uint64(300) {
		probe[v] = true
	}
	indexes := map[uint]bool{}
	for _, sc := range p.Syscalls {
		if !slices.Contains(sc.Names, name) {
			continue
		}
		for _, a := range sc.Args {
			indexes[a.Index] = true
			for _, v := range []uint64{a.Value, a.ValueTwo} {
				probe[v-1], probe[v], probe[v+1] = true, true, true
			}
		}
	}
	grid := [][6]uint64{{}}
	for i := range indexes {
		for v := range probe {
			var args [6]uint64
			args[i] = v
			grid = append(grid, args)
			if i != 2 { // with a value on another argument too (mmap's two conditions)
				args[2] = 3
				grid = append(grid, args)
			}
		}
	}
	return grid
}

// ruleActions is the sorted list of actions of p's rules for name that
// match args, as runc reads the rules; "" when none does (the default).
func ruleActions(p *specs.LinuxSeccomp, name string, args [6]uint64) string {
	var acts []string
	for _, sc := range p.Syscalls {
		if slices.Contains(sc.Names, name) && ruleMatches(sc.Args, args) {
			act := string(sc.Action)
			if sc.ErrnoRet != nil {
				act += fmt.Sprintf("(%d)", *sc.ErrnoRet)
			}
			acts = append(acts, act)
		}
	}
	slices.Sort(acts)
	return strings.Join(slices.Compact(acts), ",")
}

// ruleMatches: all conditions hold, or, when two are on one argument
// (runc then adds each as a rule of its own), any of them.
func ruleMatches(conds []specs.LinuxSeccompArg, args [6]uint64) bool {
	seen := map[uint]bool{}
	split := false
	for _, c := range conds {
		split = split || seen[c.Index]
		seen[c.Index] = true
	}
	if split {
		return slices.ContainsFunc(conds, func(c specs.LinuxSeccompArg) bool { return condHolds(c, args) })
	}
	for _, c := range conds {
		if !condHolds(c, args) {
			return false
		}
	}
	return true
}

func condHolds(c specs.LinuxSeccompArg, args [6]uint64) bool {
	a := args[c.Index]
	switch c.Op {
	case specs.OpEqualTo:
		return a == c.Value
	case specs.OpNotEqual:
		return a != c.Value
	case specs.OpLessThan:
		return a < c.Value
	case specs.OpLessEqual:
		return a <= c.Value
	case specs.OpGreaterThan:
		return a > c.Value
	case specs.OpGreaterEqual:
		return a >= c.Value
	case specs.OpMaskedEqual:
		return a&c.Value == c.ValueTwo
	}
	panic("unknown operator " + c.Op)
}

// TestCoverValues checks the cover on sets with known answers.
func TestCoverValues(t *testing.T) {
	for _, tc := range []struct {
		vals []uint64
		want int
	}{
		{[]uint64{0, 1, 2, 3}, 1},
		{[]uint64{0, 8, 0x20000, 0x20008}, 1},
		{[]uint64{5}, 1},
		{[]uint64{1, 2}, 2},
		{[]uint64{0, 1, 2}, 2},
	} {
		got := coverValues(tc.vals)
		if len(got) != tc.want {
			t.Errorf("%v: %d cubes %v, want %d", tc.vals, len(got), got, tc.want)
		}
		for v := range uint64(0x20010) {
			in := slices.ContainsFunc(got, func(c cube) bool { return c.has(v) })
			if in != slices.Contains(tc.vals, v) {
				t.Errorf("%v: %d covered: %v", tc.vals, v, in)
			}
		}
	}
}

// rulesByName lists the rules naming each system call.
func rulesByName(syscalls []specs.LinuxSyscall) map[string][]specs.LinuxSyscall {
	by := map[string][]specs.LinuxSyscall{}
	for _, sc := range syscalls {
		for _, n := range sc.Names {
			by[n] = append(by[n], sc)
		}
	}
	return by
}

// TestSharedRules requires sharedRules to list, for every filter of
// seccompCases and one naming a call twice in a rule, what rulesByName
// lists for each call more than one rule names, in the same order, and
// nothing else.
func TestSharedRules(t *testing.T) {
	cases := seccompCases(t)
	cases["a name twice in a rule"] = &specs.LinuxSeccomp{Syscalls: []specs.LinuxSyscall{
		{Names: []string{"read", "read", "write"}, Action: specs.ActAllow},
		{Names: []string{"write"}, Action: specs.ActErrno},
	}}
	for name, p := range cases {
		want := rulesByName(p.Syscalls)
		maps.DeleteFunc(want, func(_ string, rules []specs.LinuxSyscall) bool { return len(rules) < 2 })
		got := sharedRules(p.Syscalls)
		if len(want) == 0 {
			t.Errorf("%s: no call is named by more than one rule: the case tests nothing", name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: sharedRules lists %d calls, rulesByName's shared ones %d: %v", name, len(got), len(want), slices.Sorted(maps.Keys(got)))
		}
	}
}
