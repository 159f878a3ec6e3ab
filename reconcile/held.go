package reconcile

import (
	"fmt"
	"strings"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// staysDown says why stopped container c of svc is left stopped by a
// reconcile that honours the user's stops and the restart policies
// (Options.KeepStopped), or "" when it is started again: the user
// stopped it; it exited and its restart policy ("no", on-failure after a
// clean exit or once it gave up) does not restart it. A container that
// never ran, or whose exit nobody saw (its shim or the host went away),
// is started.
func staysDown(svc spec.Service, c Container) string {
	if c.State != lifecycle.Exited {
		return ""
	}
	if c.Stopped {
		return "kept: stopped by the user"
	}
	if c.ExitCode < 0 {
		return ""
	}
	policy, max, _ := strings.Cut(svc.Restart, ":")
	switch policy {
	case "", "no":
		return fmt.Sprintf(`kept: restart policy "no", it exited with code %d`, c.ExitCode)
	case "on-failure":
		if c.ExitCode == 0 {
			return "kept: restart policy on-failure, it exited with code 0"
		}
		if max != "" {
			return fmt.Sprintf("kept: restart policy %s gave up, it exited with code %d", svc.Restart, c.ExitCode)
		}
	}
	return ""
}
