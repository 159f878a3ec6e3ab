package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// authRegistry is an in-process registry on 127.0.0.1 that wants HTTP
// basic auth user:secret, holding one busybox image; it returns the image
// reference.
func authRegistry(t *testing.T) string {
	t.Helper()
	host := testutil.Registry(t, func(reg http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "secret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="berth-test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			reg.ServeHTTP(w, r)
		})
	})
	ref := host + "/private/busybox:1"
	testutil.PushBusybox(t, ref, []string{"sh", "-c", "echo authenticated-pull-works; exec sleep 1000"}, &authn.Basic{Username: "user", Password: "secret"})
	return ref
}

// login writes the Docker config file, and pulls inside up use it, as
// they would with Docker.
func TestLoginThenPullWithCredentials(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	ref := authRegistry(t)
	host := strings.SplitN(ref, "/", 2)[0]
	u := newUser(t, project(t, "services:\n  app:\n    image: "+ref+"\n"))
	dockerConfig := t.TempDir()
	u.setenv("DOCKER_CONFIG=" + dockerConfig)
	t.Cleanup(func() {
		u.try("down", "-v", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})

	if out, err := u.try("up", "-d"); err == nil || !strings.Contains(out, "401") && !strings.Contains(strings.ToLower(out), "unauthorized") {
		t.Fatalf("a pull without credentials must fail as unauthorized:\n%s", out)
	}
	if out, err := u.tryStdin("wrong\n", "login", "-u", "user", "--password-stdin", host); err == nil {
		t.Fatalf("a wrong password must be refused:\n%s", out)
	}
	if out := u.runStdin("secret\n", "login", "-u", "user", "--password-stdin", host); !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("login: %s", out)
	}
	var cfg struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	b, err := os.ReadFile(filepath.Join(dockerConfig, "config.json"))
	if err != nil || json.Unmarshal(b, &cfg) != nil || cfg.Auths[host].Auth == "" {
		t.Fatalf("config.json lacks the credentials for %s: %s %v", host, b, err)
	}
	u.run("up", "-d")
	// up returns once the process runs; its first line may reach the log a
	// moment later.
	waitFor(t, "the pulled image's output in the log", func() bool {
		return strings.Contains(u.run("logs", "app"), "authenticated-pull-works")
	})
	u.run("logout", host)
	b, _ = os.ReadFile(filepath.Join(dockerConfig, "config.json"))
	if strings.Contains(string(b), host) {
		t.Fatalf("logout left the credentials: %s", b)
	}
}
