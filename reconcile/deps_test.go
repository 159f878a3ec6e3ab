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
		"github.com/google/nftables", "github.com/mattn/go-sqlite3"}
	check(t, string(out), forbidden)
	// x/sys/unix comes in through compose-go's logging; reconcile itself must not import it.
	direct, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	check(t, string(direct), []string{"golang.org/x/sys", "syscall"})
}

func check(t *testing.T, deps string, forbidden []string) {
	t.Helper()
	for _, dep := range strings.Fields(deps) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("reconcile depends on %s", dep)
			}
		}
	}
}
