package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/spec"
)

// KubeCall is one Kubernetes form of a command (kube render, and plan, up,
// down and ps --kube), its flags parsed and checked by berth's command
// line: what a KubeRunner carries out.
type KubeCall struct {
	Command string // "render", "plan", "up", "down", "ps" or "reconcile"
	Options KubeOptions
	// Load loads the stack (for up --build, with the images it built and
	// pushed pinned to their digests); ProjectName names it without
	// loading it whole, for down and ps.
	Load        func(context.Context) (*spec.Project, error)
	ProjectName func(context.Context) (string, error)
	Output      string        // render -o: the directory of the files
	Format      string        // plan, ps: "text"/"table" or "json"
	Wait        bool          // up --wait; reconcile --rollback
	WaitTimeout time.Duration // --wait-timeout; 0: no limit
	Out         io.Writer
}

// KubePass is what one pass of reconcile --kube changed in the cluster.
type KubePass struct {
	Actions []string // one per change: "create", "update", "replace", "delete"
	Totals  string   // the plan's summary: "1 to create, 0 to update, 0 to delete"
}

// Empty reports whether the pass changed nothing.
func (p KubePass) Empty() bool { return len(p.Actions) == 0 }

// Summary is the pass's summary, as the host plan's.
func (p KubePass) Summary() string { return p.Totals }

// Kinds are its changes, one per object, for the drift counts of status.
func (p KubePass) Kinds() []string { return p.Actions }

// KubeRunner carries out the Kubernetes forms of berth's commands in this
// process. berth has none: it keeps client-go out of its binary and execs
// berth-kube, which runs the same command line with package kubecli's.
type KubeRunner interface {
	// Run runs a one-shot command.
	Run(ctx context.Context, c KubeCall) error
	// Check reports what of p cannot be mapped to the cluster (reconcile
	// --kube does not apply a commit that fails it).
	Check(p *spec.Project, o KubeOptions) error
	// Apply plans p against the cluster and applies the plan (a pass of
	// reconcile --kube), a line per change to c.Out; with c.Wait, a pass
	// that changed something then waits for every workload to be rolled
	// out (reconcile --kube --rollback). c.Load is not used.
	Apply(ctx context.Context, p *spec.Project, c KubeCall) (KubePass, error)
}

// Option configures the command line.
type Option func(*globals)

// WithKube runs the Kubernetes forms in this process with r.
func WithKube(r KubeRunner) Option { return func(g *globals) { g.kube = r } }

// withKube adds --kube and its flags to a host command: with --kube the
// command acts on the cluster (run, after the flags are checked) instead
// of the host. apply says whether it applies (plan, up, reconcile: the
// render flags and --force-conflicts). Of the host command's own flags,
// only those named in hostFlags are taken with --kube; any other one is
// refused rather than ignored.
func withKube(cmd *cobra.Command, g *globals, apply bool, run func(*cobra.Command, KubeCall) error, hostFlags ...string) *cobra.Command {
	var on bool
	call := KubeCall{Command: cmd.Name()}
	k := &call.Options
	f := cmd.Flags()
	f.BoolVar(&on, "kube", false, "act on the Kubernetes cluster of the kubeconfig instead of this host")
	f.StringVar(&k.Context, "context", "", "kubeconfig context (with --kube; default: the current one)")
	f.StringVar(&k.Kubeconfig, "kubeconfig", "", "kubeconfig file (with --kube; default: KUBECONFIG, ~/.kube/config or in-cluster)")
	kubeOnly := []string{"context", "kubeconfig", "namespace"}
	if apply {
		k.renderFlags(cmd)
		f.BoolVar(&k.ForceConflicts, "force-conflicts", false, "with --kube: take the fields another field manager owns")
		kubeOnly = append(kubeOnly, "published-type", "storage-class", "volume-size", "wait-image", "allow-hostpath", "force-conflicts")
	} else {
		f.StringVarP(&k.Namespace, "namespace", "n", "", "namespace (with --kube; default: the kubeconfig context's)")
	}
	host := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !on {
			for _, name := range kubeOnly {
				if c.Flags().Changed(name) {
					return fmt.Errorf("--%s needs --kube", name)
				}
			}
			return host(c, args)
		}
		if len(args) > 0 {
			return fmt.Errorf("%s --kube acts on the whole stack: it takes no service names", c.Name())
		}
		var refused error
		c.Flags().Visit(func(f *pflag.Flag) {
			if refused == nil && !slices.Contains(kubeOnly, f.Name) && !slices.Contains(hostFlags, f.Name) && f.Name != "kube" {
				refused = fmt.Errorf("--%s is not supported with --kube", f.Name)
			}
		})
		if refused != nil {
			return refused
		}
		if currentDryRun {
			return errors.New("--dry-run is not supported with --kube: plan --kube shows what would change")
		}
		return run(c, call)
	}
	return cmd
}

// kubeForm is withKube for the one-shot commands, run by g's KubeRunner.
func kubeForm(cmd *cobra.Command, g *globals, apply bool, hostFlags ...string) *cobra.Command {
	return withKube(cmd, g, apply, g.runKube, hostFlags...)
}

// runKube runs a Kubernetes command: in berth-kube, by its runner, after
// up --build has built and pushed; in berth, by exec'ing berth-kube with
// the same arguments.
func (g *globals) runKube(cmd *cobra.Command, call KubeCall) error {
	if g.kube == nil {
		return kubeHelper.exec()
	}
	f := cmd.Flags()
	call.Format, _ = f.GetString("format")
	call.Wait, _ = f.GetBool("wait")
	secs, _ := f.GetInt("wait-timeout")
	call.WaitTimeout = time.Duration(secs) * time.Second
	call.Out = cmd.OutOrStdout()
	call.ProjectName = func(ctx context.Context) (string, error) { return spec.ProjectName(ctx, g.loadOptions()) }
	call.Load = g.loadProject
	if build, _ := f.GetBool("build"); build && call.Command == "up" {
		pins, err := buildAndPush(cmd, g)
		if err != nil {
			return err
		}
		call.Load = func(ctx context.Context) (*spec.Project, error) {
			p, err := g.loadProject(ctx)
			if err != nil {
				return nil, err
			}
			for i, svc := range p.Services {
				if ref, ok := pins[svc.Name]; ok {
					p.Services[i].Image = ref
				}
			}
			return p, nil
		}
	}
	return g.kube.Run(cmd.Context(), call)
}
