package e2e

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// links give the linking service a name for another on the shared
// network, as on a user-defined network in Docker.
func TestLinks(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  db:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
  web:
    image: berth-e2e/busybox:1
    command: ["sleep", "1000"]
    links: ["db:database"]
`, "-t", "0")
	u.run("up", "-d")
	if out, _, code := u.split("", "exec", "-T", "web", "ping", "-c1", "-W2", "database"); code != 0 || !strings.Contains(out, "1 packets received") {
		t.Fatalf("web cannot reach db as database: %d\n%s", code, out)
	}
	if hosts, _, _ := u.split("", "exec", "-T", "db", "cat", "/etc/hosts"); strings.Contains(hosts, "database") {
		t.Fatalf("the link shows in db's /etc/hosts:\n%s", hosts)
	}
}
