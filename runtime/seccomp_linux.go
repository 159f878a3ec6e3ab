package runtime

import (
	"fmt"
	"slices"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// applySeccomp sets sp's seccomp filter as Docker does: none when
// privileged or unconfined, else the profile given, else Docker's default
// profile (github.com/moby/profiles/seccomp), both widened by the
// capabilities sp already has (the profile's includes.caps). A berth built
// without libseccomp (see SeccompSupported) runs without the default
// profile, as Docker does on such a host, and refuses a custom profile.
func applySeccomp(sp *specs.Spec, s Security) error {
	if s.Privileged || s.Seccomp == SeccompUnconfined {
		sp.Linux.Seccomp = nil
		return nil
	}
	if !seccompBuilt {
		if s.Seccomp != "" {
			return fmt.Errorf("%w: a seccomp profile was given, but this berth was built without libseccomp (install libseccomp-dev and rebuild)", ErrInvalidConfig)
		}
		return nil
	}
	var err error
	if s.Seccomp == "" {
		sp.Linux.Seccomp, err = seccomp.GetDefaultProfile(sp)
	} else {
		sp.Linux.Seccomp, err = seccomp.LoadProfile(s.Seccomp, sp)
	}
	if err != nil {
		return fmt.Errorf("%w: seccomp profile: %v", ErrInvalidConfig, err)
	}
	sp.Linux.Seccomp = compactSeccomp(sp.Linux.Seccomp)
	if sp.Linux.Seccomp != nil && !x32ABI() {
		sp.Linux.Seccomp.Architectures = withoutX32(sp.Linux.Seccomp.Architectures)
	}
	return nil
}

// withoutX32 drops the x32 architecture from a filter's: on a kernel
// without the x32 ABI no x32 system call can run, filtered or not, and
// libseccomp compiling rules for it too makes each container's start
// several times slower (bench/seccomp.sh).
func withoutX32(archs []specs.Arch) []specs.Arch {
	return slices.DeleteFunc(slices.Clone(archs), func(a specs.Arch) bool { return a == specs.ArchX32 })
}

// SeccompSupported reports whether this binary was built with libseccomp
// (cgo and the seccomp build tag), so that containers get seccomp filters.
func SeccompSupported() bool { return seccompBuilt }
