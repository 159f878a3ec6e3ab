package reconcile

import (
	"os/exec"
	"strings"
	"testing"
)

// The reconciler decides; it must never reach the kernel or a registry
// itself. This keeps the dependency direction of DESIGN.md.
func TestReconcileStaysPure(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	forbidden := []string{"github.com/opencontainers/runc", "github.com/vishvananda/netlink", "github.com/google/go-containerregistry",
		"golang.org/x/sys/unix", "github.com/google/nftables", "github.com/mattn/go-sqlite3"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("reconcile depends on %s", dep)
			}
		}
	}
}
