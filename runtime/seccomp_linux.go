package runtime

import (
	"fmt"

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
	return nil
}

// SeccompSupported reports whether this binary was built with libseccomp
// (cgo and the seccomp build tag), so that containers get seccomp filters.
func SeccompSupported() bool { return seccompBuilt }
