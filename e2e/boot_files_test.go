package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// bootFilesStack has a service with a file config, an inline config and a
// file secret, and one with none.
const bootFilesStack = `
services:
  files:
    image: berth-e2e/busybox:1
    command: ["sleep", "100000"]
    stop_signal: SIGKILL
    restart: always
    configs:
      - source: app_conf
        target: /etc/app.conf
      - source: inline
        target: /etc/inline.conf
        mode: 0440
    secrets:
      - source: token
        uid: "1000"
        gid: "1001"
        mode: 0400
  other:
    image: berth-e2e/busybox:1
    command: ["sleep", "100000"]
    stop_signal: SIGKILL
    restart: always
configs:
  app_conf:
    file: ./app.conf
  inline:
    content: "inline config\n"
secrets:
  token:
    file: ./token.txt
`

// TestBootRestoresConfigsAndSecrets: after a reboot, berth boot writes a
// container's config and secret files again from their recorded sources,
// and leaves down, saying why, a container whose secret file changed,
// bringing back the others. The secret's bytes are nowhere in the state
// root.
func TestBootRestoresConfigsAndSecrets(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, bootFilesStack, "-v", "-t", "0")
	secret := fmt.Sprintf("s3cret-%d\n", rand.Uint64())
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(u.dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("app.conf", "listen 8080\n")
	write("token.txt", secret)
	u.run("up", "-d", "--wait")
	want := map[string]string{
		"/etc/app.conf":      "listen 8080\n|0 0 444",
		"/etc/inline.conf":   "inline config\n|0 0 440",
		"/run/secrets/token": secret + "|1000 1001 400",
	}
	check := func(when string) {
		t.Helper()
		for path, w := range want {
			content := u.run("exec", "-T", "files", "cat", path)
			owner := strings.TrimSpace(u.run("exec", "-T", "files", "stat", "-c", "%u %g %a", path))
			if got := content + "|" + owner; got != w {
				t.Errorf("%s: %s is %q, want %q", when, path, got, w)
			}
		}
	}
	check("before the reboot")
	noSecretIn(t, u.root, secret)

	simulateReboot(t, u)
	out := u.run("boot")
	t.Logf("boot:\n%s", out)
	if ps := u.run("ps"); strings.Count(ps, " Up ") != 2 {
		t.Fatalf("ps after boot:\n%s", ps)
	}
	check("after boot")
	noSecretIn(t, u.root, secret)
	if t.Failed() {
		t.FailNow()
	}

	// The secret file changes while the host is down: its container stays
	// down, with why; the other comes back.
	simulateReboot(t, u)
	write("token.txt", "another\n")
	out = u.run("boot")
	t.Logf("boot after the secret changed:\n%s", out)
	why := "container " + u.project + "-files-1 stays down: secret token changed since the container was made: run `berth up` in its project"
	if !strings.Contains(out, why) {
		t.Errorf("boot does not say %q", why)
	}
	ps := u.run("ps", "-a")
	for _, l := range strings.Split(ps, "\n") {
		if strings.Contains(l, u.project+"-files-1") && strings.Contains(l, " Up ") ||
			strings.Contains(l, u.project+"-other-1") && !strings.Contains(l, " Up ") {
			t.Errorf("after boot: %q", l)
		}
	}
	if strings.Contains(out, "another") || strings.Contains(out, strings.TrimSpace(secret)) {
		t.Errorf("boot printed a secret:\n%s", out)
	}
	noSecretIn(t, u.root, secret)
	if t.Failed() {
		t.FailNow()
	}
	// berth up with the file as it is now recreates it.
	u.run("up", "-d", "--wait")
	want["/run/secrets/token"] = "another\n|1000 1001 400"
	check("after up")
}

// noSecretIn fails the test if any file under root holds secret.
func noSecretIn(t *testing.T, root, secret string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(strings.TrimSpace(secret))) {
			t.Errorf("the secret is in %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
