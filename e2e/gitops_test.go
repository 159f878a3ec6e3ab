package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
)

// genService is a stack whose service app prints gen=GEN and runs until
// stopped; more of the service's keys may follow it.
func genService(gen string) string {
	return "services:\n  app:\n    image: berth-e2e/busybox:1\n" +
		"    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; echo gen=$$GEN; while true; do sleep 0.1; done\"]\n" +
		"    environment: {GEN: \"" + gen + "\"}\n"
}

// gitRepo is a repository a test commits stacks to with the git command.
type gitRepo struct {
	t   *testing.T
	dir string
}

func (r gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r gitRepo) commit(msg, file, content string) string {
	r.t.Helper()
	p := filepath.Join(r.dir, file)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// push posts a webhook signed with secret, as GitHub does, and returns the
// status code.
func push(t *testing.T, addr, secret string) int {
	t.Helper()
	body := `{"ref":"refs/heads/main"}`
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// `reconcile --watch --git` follows a branch: the first commit is applied,
// a signed push applies the next at once, a broken commit is not applied
// and named with its file and line, a forged push is refused, and status
// tells all of it.
func TestReconcileFollowsGit(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	stack := func(gen string) string {
		return genService(gen) +
			"    configs: [{source: app_conf, target: /app.conf}]\n    secrets: [token]\n" +
			"configs:\n  app_conf: {file: ./app.conf}\nsecrets:\n  token: {file: ./token.txt}\n"
	}
	u := busyboxProject(t, stack("1"), "-v", "-t", "0")
	origin := gitRepo{t, t.TempDir()}
	origin.git("init", "-q", "-b", "main")
	origin.commit("config", "shop/app.conf", "conf=1\n")
	origin.commit("secret", "shop/token.txt", "tok-9f8e7d6c5b4a\n")
	origin.commit("first", "shop/compose.yaml", stack("1"))

	const secret = "a-shared-secret"
	u.setenv("TEST_HOOK_SECRET=" + secret)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	watch := u.start("reconcile", "--watch", "--interval", "1h", "--git", "file://"+origin.dir, "--ref", "main",
		"--path", "shop", "--webhook", addr, "--webhook-secret-env", "TEST_HOOK_SECRET", "--metrics", metricsAddr)
	watch.wait("applied: Plan: 0 to pull, 2 to create")

	origin.commit("gen two", "shop/compose.yaml", stack("2"))
	if code := push(t, addr, "forged"); code != http.StatusUnauthorized {
		t.Errorf("a forged push got %d, want 401", code)
	}
	if code := push(t, addr, secret); code != http.StatusAccepted {
		t.Fatalf("a signed push got %d, want 202", code)
	}
	watch.wait("1 to recreate")
	if out := u.run("logs", "app"); !strings.Contains(out, "gen=2") {
		t.Fatalf("the commit did not reach the container:\n%s", out)
	}

	// A commit that changes only the content of a config recreates its
	// user, and the new content is what the container sees.
	origin.commit("conf two", "shop/app.conf", "conf=2\n")
	push(t, addr, secret)
	watch.wait("1 to recreate")
	if out := u.run("exec", "-T", "app", "cat", "/app.conf"); out != "conf=2\n" {
		t.Fatalf("/app.conf after the commit: %q", out)
	}
	rotated := origin.commit("rotate", "shop/token.txt", "tok-0a1b2c3d4e5f\n")
	push(t, addr, secret)
	watch.wait("1 to recreate")
	if out := u.run("exec", "-T", "app", "cat", "/run/secrets/token"); out != "tok-0a1b2c3d4e5f\n" {
		t.Fatalf("the secret after the commit: %q", out)
	}

	bad := origin.commit("typo", "shop/compose.yaml", strings.Replace(stack("3"), "    configs:", "    privileged: maybe\n    configs:", 1))
	push(t, addr, secret)
	watch.wait("not applied: commit " + bad[:12] + " (typo): ")
	watch.wait("converged: nothing to do")

	var status []struct {
		Applied string `json:"applied"`
		URL     string `json:"url"`
		Failed  struct {
			Commit, Error string
		} `json:"failed"`
	}
	if err := json.Unmarshal([]byte(u.run("reconcile", "status", "--format", "json")), &status); err != nil {
		t.Fatal(err)
	}
	if len(status) != 1 || status[0].Applied != rotated || status[0].Failed.Commit != bad ||
		!strings.Contains(status[0].Failed.Error, "shop/compose.yaml:6") {
		t.Errorf("status: %+v", status)
	}
	if out := u.run("logs", "app"); strings.Contains(out, "gen=3") {
		t.Fatalf("the broken commit was applied:\n%s", out)
	}
	// Drift: the container removed behind the loop's back is made again,
	// and counted as a repair.
	u.run("rm", "-s", "-f", "app")
	push(t, addr, secret)
	watch.wait("1 to create")
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`berth_reconcile_drift_repairs_total{kind="create",project="` + u.project + `"} 1`,
		`berth_reconcile_applied_commit_info{commit="` + rotated + `"`, `berth_reconcile_rollbacks_total{project="` + u.project + `"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(body), "tok-0a1b2c3d4e5f") || strings.Contains(string(body), secret) {
		t.Error("/metrics shows a secret")
	}

	// The passes that changed something, and the commit not applied, are
	// the project's events.
	evs := u.run("events", "--json", "--since", "1h", "--until", time.Now().UTC().Format(time.RFC3339Nano))
	for _, want := range []string{`"type":"reconcile"`, `"action":"applied"`, `"action":"not-applied"`, bad[:12]} {
		if !strings.Contains(evs, want) {
			t.Errorf("events lack %s:\n%s", want, evs)
		}
	}

	// The secret's bytes are nowhere in berth's state but the stack's own
	// files (the repository's copy and its export, as the user has them).
	follower := filepath.Join(u.root, "gitops", u.project)
	out, _ := exec.Command("grep", "-rl", "tok-0a1b2c3d4e5f", u.root).Output()
	for _, f := range strings.Fields(string(out)) {
		if !strings.HasPrefix(f, filepath.Join(follower, "repo.git")+"/") && !strings.HasPrefix(f, filepath.Join(follower, u.project)+"/") {
			t.Errorf("the secret is in berth's state: %s", f)
		}
	}
	watch.interrupt()
}

// reconcile --rollback: a commit whose container turns unhealthy is rolled
// back to the last commit that came up healthy.
func TestReconcileRollsBackAnUnhealthyCommit(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	stack := func(gen string) string {
		return genService(gen) +
			"    healthcheck: {test: [\"CMD-SHELL\", \"test $$GEN != 2\"], interval: 200ms, retries: 1}\n"
	}
	u := busyboxProject(t, stack("1"), "-v", "-t", "0")
	origin := gitRepo{t, t.TempDir()}
	origin.git("init", "-q", "-b", "main")
	first := origin.commit("first", "compose.yaml", stack("1"))
	u.setenv("TEST_HOOK_SECRET=s")
	addr := freeAddr(t)
	watch := u.start("reconcile", "--watch", "--interval", "1h", "--git", origin.dir, "--rollback", "--wait-timeout", "30s",
		"--webhook", addr, "--webhook-secret-env", "TEST_HOOK_SECRET")
	watch.wait("applied: Plan: 0 to pull, 2 to create")

	bad := origin.commit("two is sick", "compose.yaml", stack("2"))
	push(t, addr, "s")
	watch.wait("not applied: commit " + bad[:12] + " (two is sick): ")
	watch.wait("pass failed: ")
	watch.wait("1 to recreate") // back to the first commit, at once
	if out := u.run("exec", "-T", "app", "sh", "-c", "echo $GEN"); out != "1\n" {
		t.Fatalf("after the rollback the container runs GEN=%q", out)
	}
	var status []struct {
		Applied string `json:"applied"`
		Failed  struct{ Commit, Error string }
	}
	if err := json.Unmarshal([]byte(u.run("reconcile", "status", "--format", "json")), &status); err != nil {
		t.Fatal(err)
	}
	if len(status) != 1 || status[0].Applied != first || status[0].Failed.Commit != bad || !strings.Contains(status[0].Failed.Error, "unhealthy") {
		t.Errorf("status: %+v", status)
	}
	watch.interrupt()
}
