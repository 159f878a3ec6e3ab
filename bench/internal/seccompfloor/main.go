// Command seccompfloor gives the runc bundle config.json named by its
// argument Docker's default seccomp profile, as dockerd passes it to runc
// (github.com/moby/profiles/seccomp, widened by the spec's capabilities),
// for bench/compare.sh's floor that filters system calls as berth does.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: seccompfloor BUNDLE/config.json")
		os.Exit(2)
	}
	if err := withDefaultProfile(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "seccompfloor:", err)
		os.Exit(1)
	}
}

// withDefaultProfile rewrites the OCI config at path with Docker's
// default seccomp profile.
func withDefaultProfile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var sp specs.Spec
	if err := json.Unmarshal(b, &sp); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if sp.Linux == nil {
		return fmt.Errorf("%s: no linux section", path)
	}
	if sp.Linux.Seccomp, err = seccomp.GetDefaultProfile(&sp); err != nil {
		return err
	}
	if b, err = json.Marshal(&sp); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
