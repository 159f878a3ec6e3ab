package reconcile

import (
	"strings"
	"testing"
	"time"
)

// pull_policy refresh (daily, weekly, every_<duration>) pulls a present
// image again once its last pull is older than the window.
func TestPullRefresh(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		refresh time.Duration
		pulled  time.Time // zero: never
		want    string    // the pull's reason; "" for no pull
	}{
		{"refresh", 0, at.Add(-time.Minute), "pull_policy is refresh"},
		{"daily, pulled a day and a minute ago", 24 * time.Hour, at.Add(-24*time.Hour - time.Minute), "pull_policy refreshes every 24h0m0s, and it was pulled 24h1m0s ago"},
		{"daily, pulled an hour ago", 24 * time.Hour, at.Add(-time.Hour), ""},
		{"every_2h, never pulled", 2 * time.Hour, time.Time{}, "pull_policy refreshes every 2h0m0s, and it was never pulled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, p := hostWithImages(), testProject()
			f.images["busybox"], f.images["web:1"] = "sha256:b0", "sha256:w1"
			for i := range p.Services {
				p.Services[i].PullPolicy, p.Services[i].PullRefresh = "refresh", tc.refresh
			}
			obs := f.observe(p)
			obs.At, obs.Pulled = at, map[string]time.Time{"busybox": tc.pulled, "web:1": at}
			plan := must(t)(PlanUp(p, obs, Options{}))
			pulls := plan.Only(Pull).Actions
			var got string
			for _, a := range pulls {
				if a.Target == "busybox" {
					got = a.Reason
				}
			}
			if got != tc.want {
				t.Fatalf("busybox pulled for %q, want %q:\n%s", got, tc.want, plan)
			}
			if tc.refresh > 0 && strings.Contains(plan.String(), "pull image web:1") {
				t.Fatalf("web:1 was just pulled:\n%s", plan)
			}
		})
	}
}
