package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/spec"
)

// Version is berth's version, set at build time with -ldflags.
var Version = "dev"

// globals are the flags every command shares, read once at the boundary.
type globals struct {
	root, runRoot string
	config        string // berth's configuration file
	files         []string
	projectName   string
	projectDir    string
	profiles      []string
	envFiles      []string
	kube          KubeRunner // the Kubernetes forms; nil in berth, which execs berth-kube
	gitops        GitOps     // git and loop metrics; nil in berth, which execs berth-gitops
}

// Execute runs berth's command line and returns the process exit code.
func Execute(opts ...Option) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := NewRootCommand(opts...)
	if err := cmd.ExecuteContext(ctx); err != nil {
		if ee := (*ExitError)(nil); errors.As(err, &ee) {
			return ee.Code
		}
		fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
		return 1
	}
	return 0
}

// NewRootCommand builds the whole command tree.
func NewRootCommand(opts ...Option) *cobra.Command {
	g := &globals{}
	for _, o := range opts {
		o(g)
	}
	root := &cobra.Command{
		Use:           "berth",
		Short:         "Run Docker Compose stacks without a daemon",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Project flags go before the command, as with `docker compose -f
		// x.yaml logs -f`: each level parses its own flags, so a command's
		// own -f (logs --follow) does not clash with the global -f.
		TraverseChildren: true,
	}
	f := root.Flags()
	f.StringVar(&g.root, "root", envOr("BERTH_ROOT", "/var/lib/berth"), "persistent state directory (BERTH_ROOT)")
	f.StringVar(&g.runRoot, "run-root", envOr("BERTH_RUN_ROOT", "/run/berth"), "runtime state directory (BERTH_RUN_ROOT)")
	f.StringVar(&g.config, "config", os.Getenv("BERTH_CONFIG"), "berth's configuration file, daemon.json keys (BERTH_CONFIG; default "+defaultSettingsPath+")")
	f.StringArrayVarP(&g.files, "file", "f", nil, "compose configuration files")
	f.StringVarP(&g.projectName, "project-name", "p", "", "project name")
	f.StringVar(&g.projectDir, "project-directory", "", "alternate working directory (default: the directory of the first compose file)")
	f.StringArrayVar(&g.profiles, "profile", nil, "profile to enable")
	f.StringArrayVar(&g.envFiles, "env-file", nil, "alternate environment file")
	var progress, ansi string
	f.StringVar(&progress, "progress", envOr("COMPOSE_PROGRESS", string(displayAuto)), `how progress is shown: "auto", "tty", "plain", "json" or "quiet" (COMPOSE_PROGRESS)`)
	f.StringVar(&ansi, "ansi", envOr("COMPOSE_ANSI", "auto"), `control characters: "never", "always" or "auto" (COMPOSE_ANSI)`)
	f.IntVar(&currentParallel, "parallel", envInt("PARALLEL_LIMIT", -1), "how many steps run at once; -1 for berth's default (COMPOSE_PARALLEL_LIMIT)")
	f.BoolVar(&currentDryRun, "dry-run", false, "execute the command in dry run mode: show what it would do, change nothing")
	compatibility := compatibilityFlag(f)
	currentDisplay = displayAuto
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := compatibility(); err != nil {
			return err
		}
		d, err := parseDisplay(progress, ansi)
		currentDisplay = d
		if err == nil && currentDryRun && cmd.Annotations[noDryRun] != "" {
			err = fmt.Errorf("--dry-run: %s changes the host without a plan to show, so it has no dry run", cmd.CommandPath())
		}
		return err
	}
	root.AddCommand(kubeForm(newUpCommand(g), g, true, "detach", "wait", "wait-timeout", "build"), kubeForm(newPlanCommand(g), g, true, "format"), newBuildCommand(g),
		kubeForm(newDownCommand(g), g, false), kubeForm(newPsCommand(g), g, false, "format"), newLogsCommand(g),
		newConfigCommand(g), newPullCommand(g), newPushCommand(g), newImageCommand(g), newVersionCommand(), refuseDryRun(newLoginCommand()), refuseDryRun(newLogoutCommand()),
		newNetworkCommand(g), newPortCommand(g), newVolumeCommand(g), newImagesCommand(g), newInfoCommand(g),
		newCreateCommand(g), newStopCommand(g), newStartCommand(g), newRestartCommand(g), newRmCommand(g), newReconcileCommand(g),
		newLsCommand(g), newStatsCommand(g), newInspectCommand(g), refuseDryRun(newExecCommand(g)),
		newKillCommand(g), newPauseCommand(g), newUnpauseCommand(g), newTopCommand(g), newWaitCommand(g), refuseDryRun(newCpCommand(g)), newRunCommand(g), refuseDryRun(newAttachCommand(g)),
		newEventsCommand(g), newBootCommand(g), newKubeCommand(g))
	rejectUnknownCommands(root)
	return root
}

// rejectUnknownCommands makes every command that only groups others (the
// root, `network`, `volume`, `image`) show its help when called bare and
// fail with exit code 1, naming the closest command, when given an
// unknown one; cobra would otherwise print the help and exit 0.
func rejectUnknownCommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		rejectUnknownCommands(sub)
	}
	if c.Runnable() || !c.HasSubCommands() {
		return
	}
	c.SuggestionsMinimumDistance = 2
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return fmt.Errorf("%s\nRun '%s --help' for usage", msg, cmd.CommandPath())
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}

// runtimeBinary finds berth-runtime: BERTH_RUNTIME, else beside the berth
// executable. Without it berth re-executes itself, which works as well,
// only slower.
func runtimeBinary() string { return besideBerth("BERTH_RUNTIME", "berth-runtime") }

// besideBerth finds one of berth's helper programs: at the path in the
// environment variable env, else name beside the berth executable; "" when
// there is none.
func besideBerth(env, name string) string {
	if p := os.Getenv(env); p != "" {
		if abs, err := filepath.Abs(p); err == nil && isExecutable(abs) {
			return abs // absolute: shims start in /
		}
		return ""
	}
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	if p := filepath.Join(filepath.Dir(self), name); isExecutable(p) {
		return p
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// loadOptions are the project flags as spec takes them.
func (g *globals) loadOptions() spec.LoadOptions {
	return spec.LoadOptions{Files: g.files, ProjectName: g.projectName, ProjectDir: g.projectDir,
		Profiles: g.profiles, EnvFiles: g.envFiles}
}

// openEngine opens the host's state.
func (g *globals) openEngine(opts ...engine.Option) (*engine.Engine, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("berth needs root to run containers (run it with sudo)")
	}
	path := first(g.config, defaultSettingsPath)
	s, err := loadSettings(path, g.config != "")
	if err != nil {
		return nil, err
	}
	base := []engine.Option{engine.WithRegistries(image.RegistryConfig{Mirrors: s.RegistryMirrors, Insecure: s.InsecureRegistries})}
	if rt := runtimeBinary(); rt != "" {
		base = append(base, engine.WithRuntimeBinary(rt))
	}
	if in := besideBerth("BERTH_INIT", "berth-init"); in != "" {
		base = append(base, engine.WithInitBinary(in))
	}
	return engine.Open(g.root, g.runRoot, append(base, opts...)...)
}

// session is one command's project, engine and project lock.
type session struct {
	project *spec.Project
	engine  *engine.Engine
	unlock  func()
}

// open loads the project, opens the engine and takes the project lock,
// for commands that change the host. Without a compose file, a project
// named by -p or COMPOSE_PROJECT_NAME is the one berth recorded, as
// Docker Compose's down, stop, rm... act from its containers' labels.
func (g *globals) open(ctx context.Context, opts ...engine.Option) (*session, error) {
	return g.session(ctx, true, true, opts...)
}

// openStack is open for the commands that need the stack file itself
// (up, create, plan, run, pull, push): no recorded project stands in.
func (g *globals) openStack(ctx context.Context, opts ...engine.Option) (*session, error) {
	return g.session(ctx, true, false, opts...)
}

// view is open without the project lock, for commands that only read.
func (g *globals) view(ctx context.Context, opts ...engine.Option) (*session, error) {
	return g.session(ctx, false, true, opts...)
}

func (g *globals) session(ctx context.Context, lock, recorded bool, opts ...engine.Option) (*session, error) {
	// The engine opens (on a fresh root: directories, the database and
	// the image index, each synced) while the project loads (compose-go's
	// work, on the CPU): neither needs the other. The cache is decided
	// before, so that a root the engine is creating is not used for it
	// half-made.
	dir, salt := g.projectCache()
	opened := make(chan openedEngine, 1)
	go func() {
		defer phase.Start("", "session.engine")()
		e, err := g.openEngine(opts...)
		opened <- openedEngine{e, err}
	}()
	end := phase.Start("", "session.load")
	p, err := g.loadProjectCached(ctx, dir, salt)
	end()
	o := <-opened
	name := first(g.projectName, os.Getenv("COMPOSE_PROJECT_NAME"))
	if err != nil && !(recorded && errors.Is(err, spec.ErrNoComposeFile) && name != "") {
		if o.err == nil {
			o.e.Close()
		}
		return nil, err
	}
	e, err := o.e, o.err
	if err != nil {
		return nil, err
	}
	s := &session{project: p, engine: e, unlock: func() {}}
	if p == nil {
		if s.project, err = e.RecordedProject(ctx, name); err != nil {
			e.Close()
			return nil, err
		}
	}
	if lock {
		defer phase.Start("", "session.lock")()
		if s.unlock, err = e.LockProject(ctx, s.project.Name); err != nil {
			e.Close()
			return nil, err
		}
	}
	return s, nil
}

// openedEngine is the outcome of openEngine run beside the project's load.
type openedEngine struct {
	e   *engine.Engine
	err error
}

func (s *session) close() {
	s.unlock()
	s.engine.Close()
}

// isTerminal reports whether w is a terminal: not merely a character
// device (/dev/null is one, and output sent there is plain, as Docker
// Compose makes it, not redrawn for every event).
func isTerminal(w io.Writer) bool {
	return terminalFile(w) != nil
}
