package reconcile_test

import (
	"testing"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/reconcile/drivertest"
)

// The driver suite on the fake host the planner tests use: the fake must
// behave as the real engine does (the engine runs the same suite as root).
func TestDriverSuiteOnFakes(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) drivertest.Host {
		f := reconcile.NewFakeHost()
		return drivertest.Host{Observer: f, Drivers: f.Drivers(), Image: "busybox", Project: "suite"}
	})
}
