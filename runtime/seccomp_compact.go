package runtime

import (
	"cmp"
	"math/bits"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxCompactValues bounds the values one system call's rules may admit
// for compactSeccomp to rewrite them.
const maxCompactValues = 256

// compactSeccomp returns p with the rules of each system call that only
// admit a few small values of one argument — Docker's default profile
// allows socket for 33 address families in 30 rules and personality for 5
// values in 5 — rewritten as the fewest masked comparisons
// (arg & mask == value) it finds that admit exactly the same values. The
// filter allows and denies the same calls; libseccomp, which compiles it
// in each container's init, spends most of that time on such chains of
// alternatives (bench/seccomp.sh). A system call is left as it is unless
// every rule naming it has one argument comparison, all on the same
// argument with the same action and errno, each admitting a finite set of
// values below 2^32 (where 32- and 64-bit architectures compare alike),
// and the rewrite has fewer rules.
func compactSeccomp(p *specs.LinuxSeccomp) *specs.LinuxSeccomp {
	if p == nil {
		return nil
	}
	rewritten := map[string][]specs.LinuxSyscall{}
	for name, rules := range sharedRules(p.Syscalls) {
		if r, ok := compactRules(name, rules); ok {
			rewritten[name] = r
		}
	}
	if len(rewritten) == 0 {
		return p
	}
	out := *p
	out.Syscalls = nil
	placed := map[string]bool{}
	isRewritten := func(n string) bool { _, ok := rewritten[n]; return ok }
	for _, sc := range p.Syscalls {
		names := sc.Names // each rewritten name's rules go where it first was
		if slices.ContainsFunc(names, isRewritten) {
			sc.Names = slices.DeleteFunc(slices.Clone(names), isRewritten)
		}
		if len(sc.Names) > 0 {
			out.Syscalls = append(out.Syscalls, sc)
		}
		for _, n := range names {
			if r, ok := rewritten[n]; ok && !placed[n] {
				placed[n] = true
				out.Syscalls = append(out.Syscalls, r...)
			}
		}
	}
	return &out
}

// sharedRules lists, in order, the rules naming each system call that
// more than one rule names: compactRules leaves the others as they are.
// Docker's profile names about 380 calls, a handful of them in more than
// one rule; listing every one's rules took half of compactSeccomp's time.
func sharedRules(syscalls []specs.LinuxSyscall) map[string][]specs.LinuxSyscall {
	first := make(map[string]int, 512) // the first rule naming each call
	by := map[string][]specs.LinuxSyscall{}
	for i, sc := range syscalls {
		for _, n := range sc.Names {
			j, seen := first[n]
			switch {
			case !seen:
				first[n] = i
			case by[n] == nil:
				by[n] = []specs.LinuxSyscall{syscalls[j], sc}
			default:
				by[n] = append(by[n], sc)
			}
		}
	}
	return by
}

// compactRules rewrites one system call's rules (see compactSeccomp);
// false when they are left as they are.
func compactRules(name string, rules []specs.LinuxSyscall) ([]specs.LinuxSyscall, bool) {
	if len(rules) < 2 {
		return nil, false
	}
	first := rules[0]
	var admitted []uint64
	for _, r := range rules {
		if len(r.Args) != 1 || r.Action != first.Action || !sameErrno(r.ErrnoRet, first.ErrnoRet) || r.Args[0].Index != first.Args[0].Index {
			return nil, false
		}
		vals, ok := admittedValues(r.Args[0])
		if !ok || len(admitted)+len(vals) > maxCompactValues {
			return nil, false
		}
		admitted = append(admitted, vals...)
	}
	slices.Sort(admitted)
	cubes := coverValues(slices.Compact(admitted))
	if len(cubes) >= len(rules) {
		return nil, false
	}
	out := make([]specs.LinuxSyscall, 0, len(cubes))
	for _, c := range cubes {
		out = append(out, specs.LinuxSyscall{
			Names:    []string{name},
			Action:   first.Action,
			ErrnoRet: first.ErrnoRet,
			Args: []specs.LinuxSeccompArg{{
				Index:    first.Args[0].Index,
				Value:    ^c.free, // the mask: every bit but the free ones, the upper 32 too
				ValueTwo: c.value,
				Op:       specs.OpMaskedEqual,
			}},
		})
	}
	return out, true
}

func sameErrno(a, b *uint) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// admittedValues lists the values a comparison admits when they are few
// and below 2^32.
func admittedValues(a specs.LinuxSeccompArg) ([]uint64, bool) {
	var end uint64 // admits [0, end)
	switch a.Op {
	case specs.OpEqualTo:
		if a.Value >= 1<<32 {
			return nil, false
		}
		return []uint64{a.Value}, true
	case specs.OpLessThan:
		end = a.Value
	case specs.OpLessEqual:
		end = a.Value + 1
	default:
		return nil, false
	}
	if end == 0 || end > maxCompactValues {
		return nil, false
	}
	vals := make([]uint64, end)
	for i := range vals {
		vals[i] = uint64(i)
	}
	return vals, true
}

// cube is the set of values equal to value outside the bits of free.
type cube struct{ value, free uint64 }

func (c cube) has(v uint64) bool { return v&^c.free == c.value }

// coverValues returns cubes whose union is exactly vals (sorted, unique,
// below 2^32): the prime implicants of Quine and McCluskey, the essential
// ones first, then greedily those covering most of what is left.
func coverValues(vals []uint64) []cube {
	level := map[cube]bool{}
	for _, v := range vals {
		level[cube{value: v}] = false
	}
	top := uint64(1) << bits.Len64(slices.Max(vals)) // no value has this bit or a higher one
	var primes []cube
	for len(level) > 0 {
		next := map[cube]bool{}
		for a := range level {
			for bit := uint64(1); bit < top; bit <<= 1 {
				if a.free&bit != 0 || a.value&bit != 0 {
					continue
				}
				b := cube{value: a.value | bit, free: a.free}
				if _, ok := level[b]; ok {
					level[a], level[b] = true, true
					next[cube{value: a.value, free: a.free | bit}] = false
				}
			}
		}
		for c, merged := range level {
			if !merged {
				primes = append(primes, c)
			}
		}
		level = next
	}
	slices.SortFunc(primes, func(a, b cube) int {
		if d := bits.OnesCount64(b.free) - bits.OnesCount64(a.free); d != 0 {
			return d
		}
		return cmp.Or(cmp.Compare(a.value, b.value), cmp.Compare(a.free, b.free))
	})
	left := slices.Clone(vals) // not covered yet
	var out []cube
	take := func(c cube) {
		out = append(out, c)
		left = slices.DeleteFunc(left, c.has)
	}
	for _, v := range vals { // essential primes: the only ones covering some value
		var only []cube
		for _, c := range primes {
			if c.has(v) {
				only = append(only, c)
			}
		}
		if len(only) == 1 && slices.Contains(left, v) {
			take(only[0])
		}
	}
	for len(left) > 0 {
		best, most := cube{}, 0
		for _, c := range primes {
			n := 0
			for _, v := range left {
				if c.has(v) {
					n++
				}
			}
			if n > most {
				best, most = c, n
			}
		}
		take(best)
	}
	return out
}
