package reconcile

import (
	"fmt"
	"time"

	"github.com/berth-dev/berth/spec"
)

// refreshDue says why svc's local image is pulled again under pull_policy
// refresh (daily, weekly, every_<duration>: Docker Compose's), or "" when
// its last pull is recent enough: it is pulled once the last pull is older
// than svc.PullRefresh at the time the host was observed (plain refresh,
// 0: every time); an image never pulled (built, loaded) is pulled.
func refreshDue(svc spec.Service, obs Observed) string {
	if svc.PullRefresh == 0 {
		return "pull_policy is refresh"
	}
	last := obs.Pulled[svc.Image]
	if last.IsZero() {
		return fmt.Sprintf("pull_policy refreshes every %s, and it was never pulled", svc.PullRefresh)
	}
	if age := obs.At.Sub(last); age > svc.PullRefresh {
		return fmt.Sprintf("pull_policy refreshes every %s, and it was pulled %s ago", svc.PullRefresh, age.Round(time.Second))
	}
	return ""
}
