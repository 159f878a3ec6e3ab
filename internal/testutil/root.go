package testutil

import (
	"os"
	"testing"
)

// RequiresRoot skips t when not running as root, unless CI=true, in which
// case a root test that cannot run fails: CI must never silently skip it.
func RequiresRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test needs root and CI=true: run the suite as root")
	}
	t.Skip("needs root (run as root, as CI does)")
}
