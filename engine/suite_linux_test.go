package engine

import (
	"testing"

	"github.com/berth-dev/berth/reconcile/drivertest"
)

// The driver suite on the real engine: what the planner's fakes promise
// holds on the host.
func TestDriverSuite(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) drivertest.Host {
		h := newHost(t)
		return drivertest.Host{Observer: h.e, Drivers: h.drivers(), Image: "berth-test/busybox:1", Project: h.project}
	})
}
