package compose

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/berth-dev/berth/kube"
	"github.com/berth-dev/berth/spec"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// kubeCLI are the flags that turn plan, up, down and ps to the cluster.
type kubeCLI struct {
	on             bool
	context        string
	kubeconfig     string
	forceConflicts bool
	render         kubeFlags
	pins           map[string]string // service: the image up --build pushed, with its digest
}

// kubeRun is the --kube form of a command.
type kubeRun func(cmd *cobra.Command, g *globals, k *kubeCLI, args []string) error

// withKube adds --kube and its flags to a host command: with --kube the
// command acts on the cluster through package kube instead of the host.
// apply says whether it applies (plan, up: the render flags and
// --force-conflicts).
// Of the host command's own flags, only those named in hostFlags are
// taken with --kube; any other one is refused rather than ignored.
func withKube(cmd *cobra.Command, g *globals, apply bool, run kubeRun, hostFlags ...string) *cobra.Command {
	k := &kubeCLI{}
	f := cmd.Flags()
	f.BoolVar(&k.on, "kube", false, "act on the Kubernetes cluster of the kubeconfig instead of this host")
	f.StringVar(&k.context, "context", "", "kubeconfig context (with --kube; default: the current one)")
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file (with --kube; default: KUBECONFIG, ~/.kube/config or in-cluster)")
	kubeOnly := []string{"context", "kubeconfig", "namespace"}
	if apply {
		k.render.flags(cmd)
		f.BoolVar(&k.forceConflicts, "force-conflicts", false, "with --kube: take the fields another field manager owns")
		kubeOnly = append(kubeOnly, "published-type", "storage-class", "volume-size", "wait-image", "allow-hostpath", "force-conflicts")
	} else {
		f.StringVarP(&k.render.namespace, "namespace", "n", "", "namespace (with --kube; default: the kubeconfig context's)")
	}
	host := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !k.on {
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
		return run(c, g, k, args)
	}
	return cmd
}

// connect is the cluster and namespace the flags name.
func (k *kubeCLI) connect() (*kube.Cluster, error) {
	return kube.Connect(kube.ConnectOptions{Kubeconfig: k.kubeconfig, Context: k.context, Namespace: k.render.namespace})
}

// kubePlan renders the stack, observes the cluster, dry-runs every object
// and plans, as plan --kube and up --kube do.
func (k *kubeCLI) plan(cmd *cobra.Command, g *globals) (*kube.Cluster, kube.Plan, error) {
	ctx := cmd.Context()
	p, err := g.loadProject(ctx)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	for i, svc := range p.Services {
		if ref, ok := k.pins[svc.Name]; ok {
			p.Services[i].Image = ref
		}
	}
	c, err := k.connect()
	if err != nil {
		return nil, kube.Plan{}, err
	}
	o := k.render.options()
	o.Namespace = c.Namespace
	objs, err := kube.Render(p, o)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	obs, err := c.Observe(ctx, p.Name, objs)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	dry, err := c.DryRun(ctx, objs, k.forceConflicts)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	plan, err := kube.PlanApply(p.Name, objs, obs, dry)
	return c, plan, err
}

func kubePlan(cmd *cobra.Command, g *globals, k *kubeCLI, _ []string) error {
	_, plan, err := k.plan(cmd, g)
	if err != nil {
		return err
	}
	format, _ := cmd.Flags().GetString("format")
	return writePlan(cmd.OutOrStdout(), format, plan)
}

func kubeUp(cmd *cobra.Command, g *globals, k *kubeCLI, _ []string) error {
	if build, _ := cmd.Flags().GetBool("build"); build {
		pins, err := buildAndPush(cmd, g)
		if err != nil {
			return err
		}
		k.pins = pins
	}
	c, plan, err := k.plan(cmd, g)
	if err != nil {
		return err
	}
	if err := applyKube(cmd, c, plan, k.forceConflicts); err != nil {
		return err
	}
	if wait, _ := cmd.Flags().GetBool("wait"); wait {
		secs, _ := cmd.Flags().GetInt("wait-timeout")
		p, err := spec.ProjectName(cmd.Context(), g.loadOptions())
		if err != nil {
			return err
		}
		return c.Wait(cmd.Context(), p, time.Duration(secs)*time.Second)
	}
	return nil
}

func kubeDown(cmd *cobra.Command, g *globals, k *kubeCLI, _ []string) error {
	name, c, err := k.project(cmd, g)
	if err != nil {
		return err
	}
	obs, err := c.Observe(cmd.Context(), name, nil)
	if err != nil {
		return err
	}
	return applyKube(cmd, c, kube.PlanDown(obs), false)
}

// project is the stack's project name and the cluster it goes to.
func (k *kubeCLI) project(cmd *cobra.Command, g *globals) (string, *kube.Cluster, error) {
	name, err := spec.ProjectName(cmd.Context(), g.loadOptions())
	if err != nil {
		return "", nil, err
	}
	c, err := k.connect()
	return name, c, err
}

// applyKube applies a plan, a line per change done, then the summary.
func applyKube(cmd *cobra.Command, c *kube.Cluster, plan kube.Plan, force bool) error {
	out := cmd.OutOrStdout()
	err := c.Apply(cmd.Context(), plan, force, func(ch kube.Change) {
		fmt.Fprintf(out, "%s %sd (%s)\n", ch.Target, ch.Action, ch.Reason)
	})
	if err != nil {
		return err
	}
	if plan.Empty() {
		fmt.Fprint(out, plan.String())
	}
	return nil
}

func kubePs(cmd *cobra.Command, g *globals, k *kubeCLI, _ []string) error {
	name, c, err := k.project(cmd, g)
	if err != nil {
		return err
	}
	ws, err := c.Workloads(cmd.Context(), name)
	if err != nil {
		return err
	}
	if format, _ := cmd.Flags().GetString("format"); format == "json" {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(ws)
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSERVICE\tREADY\tSTATUS")
	for _, w := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", w.Name, w.Kind, w.Service, w.Ready, w.Status)
	}
	return tw.Flush()
}
