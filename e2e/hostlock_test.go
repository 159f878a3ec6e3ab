package e2e

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// Two projects of one root brought up at the same instant, 20 times:
// each time both bridges' isolation rules are complete (each bridge's
// traffic to the other dropped, both ways), because bridge and nft
// changes hold the host-wide lock between reading the bridges and
// committing the rules.
func TestConcurrentUpsIsolateEachOther(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	tag := rand.IntN(1 << 20)
	stack := func(bridge string) string {
		return fmt.Sprintf(`
services:
  s:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    stop_grace_period: 0s
networks:
  default:
    driver_opts:
      com.docker.network.bridge.name: %s
`, bridge)
	}
	brA, brB := fmt.Sprintf("brci%da", tag), fmt.Sprintf("brci%db", tag)
	a := busyboxProject(t, stack(brA), "-t", "0")
	b := *a
	b.dir = project(t, stack(brB))
	b.project = a.project + "b"
	b.env = append(slices.Clone(a.env), fmt.Sprintf("BERTH_SUBNET_POOL=10.199.%d.0/24", rand.IntN(256)))
	t.Cleanup(func() { b.try("down", "-t", "0") })
	both := func(args ...string) {
		t.Helper()
		var wg sync.WaitGroup
		start := make(chan struct{})
		outs := make([]string, 2)
		errs := make([]error, 2)
		for i, u := range []*user{a, &b} {
			wg.Go(func() {
				<-start
				outs[i], errs[i] = u.try(args...)
			})
		}
		close(start)
		wg.Wait()
		for i := range errs {
			if errs[i] != nil {
				t.Fatalf("berth %v (project %d): %v\n%s", args, i, errs[i], outs[i])
			}
		}
	}
	passed := 0
	for round := range 20 {
		both("up", "-d")
		out, err := exec.Command("nft", "list", "table", "ip", engine.HostName(a.root)).CombinedOutput()
		if err != nil {
			t.Fatalf("nft list: %v %s", err, out)
		}
		complete := true
		for _, pair := range [][2]string{{brA, brB}, {brB, brA}} {
			if !strings.Contains(string(out), fmt.Sprintf(`iifname "%s" oifname "%s"`, pair[0], pair[1])) {
				t.Errorf("round %d: no rule drops %s -> %s:\n%s", round, pair[0], pair[1], out)
				complete = false
			}
		}
		if complete {
			passed++
		}
		both("down", "-t", "0")
	}
	t.Logf("concurrent-up rounds with complete isolation rules: %d of 20", passed)
}
