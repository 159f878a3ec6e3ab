package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/gitops"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/webhook"
)

// gitFlags are reconcile's flags for following a stack in git.
type gitFlags struct {
	src                   gitops.Source
	webhook               string // listen address
	secretFile, secretEnv string
	rollback              bool
	waitTimeout           time.Duration
}

func (gf *gitFlags) register(f *pflag.FlagSet) {
	f.StringVar(&gf.src.URL, "git", "", "follow the stack in this git repository (https://, ssh://, user@host:path, file:// or a path)")
	f.StringVar(&gf.src.Ref, "ref", "", "with --git: the branch, tag or commit to follow (default: the remote's HEAD)")
	f.StringVar(&gf.src.Path, "path", "", "with --git: the stack's directory in the repository")
	f.StringVar(&gf.src.Auth.TokenFile, "git-token-file", "", "with --git: file holding an HTTPS access token")
	f.StringVar(&gf.src.Auth.TokenEnv, "git-token-env", "", "with --git: environment variable holding an HTTPS access token")
	f.StringVar(&gf.src.Auth.Username, "git-username", "", "with --git: HTTPS user name")
	f.StringVar(&gf.src.Auth.PasswordFile, "git-password-file", "", "with --git: file holding the HTTPS password")
	f.StringVar(&gf.src.Auth.PasswordEnv, "git-password-env", "", "with --git: environment variable holding the HTTPS password")
	f.StringVar(&gf.src.Auth.SSHKeyFile, "git-ssh-key", "", "with --git: SSH private key file")
	f.StringVar(&gf.src.Auth.KnownHosts, "git-known-hosts", "", "with --git: known_hosts file checked for SSH (default ~/.ssh/known_hosts)")
	f.StringVar(&gf.webhook, "webhook", "", "with --git: listen on this address for push webhooks that start a pass at once")
	f.StringVar(&gf.secretFile, "webhook-secret-file", "", "file holding the webhook's shared secret")
	f.StringVar(&gf.secretEnv, "webhook-secret-env", "", "environment variable holding the webhook's shared secret")
	f.BoolVar(&gf.rollback, "rollback", false, "with --git: a pass whose containers do not come up running and healthy fails, and its commit is rolled back")
	f.DurationVar(&gf.waitTimeout, "wait-timeout", 5*time.Minute, "with --rollback: how long a pass waits for its containers")
}

// check refuses git options without --git, and a webhook without a secret.
func (gf *gitFlags) check(fs *pflag.FlagSet) error {
	if gf.src.URL == "" {
		var set []string
		fs.Visit(func(f *pflag.Flag) {
			if f.Name == "ref" || f.Name == "path" || f.Name == "rollback" || f.Name == "wait-timeout" || strings.HasPrefix(f.Name, "git-") || strings.HasPrefix(f.Name, "webhook") {
				set = append(set, "--"+f.Name)
			}
		})
		if len(set) > 0 {
			return fmt.Errorf("%s needs --git", strings.Join(set, ", "))
		}
		return nil
	}
	if gf.webhook != "" && gf.secretFile == "" && gf.secretEnv == "" {
		return errors.New("--webhook needs --webhook-secret-file or --webhook-secret-env: unsigned pushes are never accepted")
	}
	return nil
}

// stackName is the project name of a followed stack: -p, else the last
// element of --path, else the repository's name.
func (gf *gitFlags) stackName(g *globals) string {
	if g.projectName != "" {
		return spec.NormalizeName(g.projectName)
	}
	if p := strings.Trim(gf.src.Path, "/"); p != "" {
		return spec.NormalizeName(path.Base(p))
	}
	u := strings.TrimSuffix(strings.TrimSuffix(gitops.Redact(gf.src.URL), "/"), ".git")
	if i := strings.LastIndexAny(u, "/:"); i >= 0 {
		u = u[i+1:]
	}
	return spec.NormalizeName(u)
}

// GitOps follows stacks in git and keeps the metrics of reconcile's loop
// (package gitopscli's, on go-git and the Prometheus client). berth has
// none: it keeps both out of its binary and execs berth-gitops, which runs
// the same command line with them, for reconcile --git and --metrics.
type GitOps interface {
	// Follow opens the follower of the stack name from src, its state
	// kept in dir; load loads the stack whose files are in a directory.
	Follow(dir, name string, src gitops.Source, load func(ctx context.Context, dir string) (*spec.Project, error), ev FollowEvents) (Follower, error)
	// Metrics are new metrics of the loop of project.
	Metrics(project string) LoopMetrics
}

// WithGitOps follows stacks in git and keeps loop metrics in this process
// with r.
func WithGitOps(r GitOps) Option { return func(g *globals) { g.gitops = r } }

// Follower follows a stack in git: each pass's load fetches and returns
// the stack of the commit to converge to, and the pass's outcome is
// recorded (a commit it applied, or failed to).
type Follower interface {
	Load(ctx context.Context) (*spec.Project, error)
	Record(done gitops.Outcome, passErr error) error
}

// FollowEvents are what a follower tells as it goes: Applied, the commit
// the host runs (when it opens, and each commit applied); Fetched, each
// fetch; NotApplied, each commit not applied and why.
type FollowEvents struct {
	Applied    func(commit string)
	Fetched    func()
	NotApplied func(error)
}

// LoopMetrics records the passes of a reconcile loop, and serves them.
type LoopMetrics interface {
	// Pass records a host pass that took d; drift says its actions
	// repaired drift rather than applied a new stack.
	Pass(p reconcile.Pass, d time.Duration, drift bool)
	// Record is Pass given the kind of each action (reconcile --kube's).
	Record(kinds []string, passErr error, d time.Duration, drift bool)
	Fetched()
	Applied(commit string)
	RolledBack()
	// Serve serves /metrics and /healthz on ln until stop is called.
	Serve(ln net.Listener) (stop func())
}

// needsGitOps reports whether a loop with these flags follows git or
// serves metrics, which berth leaves to berth-gitops.
func (gf *gitFlags) needsGitOps(metricsAddr string) bool {
	return gf.src.URL != "" || metricsAddr != ""
}

// follower opens the follower of the stack under the state root, in
// gitops/<name><suffix>, telling ev what it does; a commit whose stack
// does not load, or fails check (when not nil), is not applied.
func (gf *gitFlags) follower(g *globals, suffix string, check func(*spec.Project) error, ev FollowEvents) (Follower, error) {
	name := gf.stackName(g)
	if name == "" {
		return nil, fmt.Errorf("cannot name the stack of %s: give -p", gitops.Redact(gf.src.URL))
	}
	load := func(ctx context.Context, dir string) (*spec.Project, error) {
		o := g.loadOptions()
		o.WorkingDir, o.ProjectDir, o.Files, o.NoParents = filepath.Dir(dir), dir, nil, true
		p, err := spec.Load(ctx, o)
		if err == nil && check != nil {
			err = check(p)
		}
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return g.gitops.Follow(filepath.Join(g.root, "gitops", name+suffix), name, gf.src, load, ev)
}

// serveWebhook listens on the webhook address; each authentic push calls
// wake. It returns a stop function.
func (gf *gitFlags) serveWebhook(wake func()) (func(), error) {
	if gf.webhook == "" {
		return func() {}, nil
	}
	secret, err := readSecret(gf.secretFile, gf.secretEnv)
	if err != nil {
		return nil, fmt.Errorf("--webhook-secret: %w", err)
	}
	h, err := webhook.New([]byte(secret), wake, 5)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", gf.webhook)
	if err != nil {
		return nil, fmt.Errorf("--webhook: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: webhookTimeout, ReadTimeout: webhookTimeout}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}

// readSecret reads the webhook secret from a file or the environment.
func readSecret(file, env string) (string, error) {
	if file != "" && env != "" {
		return "", errors.New("give a file or an environment variable, not both")
	}
	v := os.Getenv(env)
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		v = string(b)
	}
	if v = strings.TrimSpace(v); v == "" {
		return "", errors.New("the secret is empty")
	}
	return v, nil
}

// webhookTimeout bounds how long a webhook client may take to send.
const webhookTimeout = 10 * time.Second

func newReconcileStatusCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status [OPTIONS]",
		Short: "Show what reconcile --git applied: the commit, the last pass, failed commits",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.reconcileStatus(cmd.OutOrStdout(), format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", `"table", "json" or a Go template`)
	return cmd
}

// statusListing renders reconcile status, one row a followed stack.
var statusListing = listing{
	table: `{{.Name}}\t{{.Commit}}\t{{.LastPassAt}}\t{{.Result}}\t{{.NotApplied}}`,
	headers: map[string]string{"Name": "NAME", "Commit": "COMMIT", "LastPassAt": "LAST PASS",
		"Result": "RESULT", "NotApplied": "NOT APPLIED"},
	array:   true,
	minCell: 10,
}

// statusRow is a followed stack's status with its table columns.
type statusRow struct {
	gitops.Status
	Commit     string `json:"-"` // short commit and subject
	LastPassAt string `json:"-"`
	Result     string `json:"-"`
	NotApplied string `json:"-"` // the last failed commit and why
}

// reconcileStatus prints the status of every stack followed under the
// state root, or of the -p one.
func (g *globals) reconcileStatus(w io.Writer, format string) error {
	dirs, err := filepath.Glob(filepath.Join(g.root, "gitops", "*", "status.json"))
	if err != nil {
		return err
	}
	var rows []statusRow
	for _, file := range dirs {
		s, err := gitops.ReadStatus(filepath.Dir(file))
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if g.projectName != "" && s.Name != spec.NormalizeName(g.projectName) {
			continue
		}
		r := statusRow{Status: s, Commit: "-", LastPassAt: "-", Result: "-", NotApplied: "-"}
		if s.Applied != "" {
			r.Commit = s.Applied[:12] + " " + s.AppliedSubject
		}
		if s.LastPass != nil {
			r.LastPassAt = s.LastPass.At.Format(time.RFC3339)
			r.Result = first(s.LastPass.Error, s.LastPass.Summary)
		}
		if s.FetchError != "" {
			r.Result = "fetch failed: " + s.FetchError
		}
		if s.Failed != nil {
			r.NotApplied = s.Failed.Error
		}
		rows = append(rows, r)
	}
	if g.projectName != "" && len(rows) == 0 {
		return fmt.Errorf("no stack named %q is followed from git under %s", g.projectName, g.root)
	}
	return statusListing.render(w, format, rows)
}

// wakeup makes a loop's next pass start at once (a webhook, a commit not
// applied); it holds at most one pending wake.
type wakeup chan struct{}

func newWakeup() wakeup { return make(wakeup, 1) }

// poke makes the next pass start at once.
func (w wakeup) poke() {
	select {
	case w <- struct{}{}:
	default: // a pass is already due
	}
}

// followEvents tells m and out what a follower does: its fetches, the
// commits it applies, and each commit it does not apply, after which
// notApplied (an event, or nothing) runs and the next pass is poked to
// converge back to the applied commit at once.
func followEvents(m LoopMetrics, out io.Writer, w wakeup, notApplied func(error)) FollowEvents {
	return FollowEvents{
		Applied: m.Applied,
		Fetched: m.Fetched,
		NotApplied: func(err error) {
			m.RolledBack()
			notApplied(err)
			w.poke()
			fmt.Fprintf(out, "%s not applied: %v\n", stamp(), err)
		},
	}
}
