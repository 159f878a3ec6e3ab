package kubecli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/berth-dev/berth/compose"
	"github.com/berth-dev/berth/kube"
	"github.com/berth-dev/berth/spec"
)

// Runner is compose's KubeRunner on package kube.
type Runner struct{}

var _ compose.KubeRunner = Runner{}

// Run runs one Kubernetes command.
func (Runner) Run(ctx context.Context, c compose.KubeCall) error {
	switch c.Command {
	case "render":
		return render(ctx, c)
	case "plan":
		return plan(ctx, c)
	case "up":
		return up(ctx, c)
	case "down":
		return down(ctx, c)
	case "ps":
		return ps(ctx, c)
	}
	return fmt.Errorf("%s has no Kubernetes form", c.Command)
}

// options are the render options the flags ask for.
func options(o compose.KubeOptions) kube.Options {
	return kube.Options{Namespace: o.Namespace, PublishedType: o.PublishedType, StorageClass: o.StorageClass,
		VolumeSize: o.VolumeSize, WaitImage: o.WaitImage, AllowHostPath: o.AllowHostPath}
}

// connect is the cluster and namespace the flags name.
func connect(o compose.KubeOptions) (*kube.Cluster, error) {
	return kube.Connect(kube.ConnectOptions{Kubeconfig: o.Kubeconfig, Context: o.Context, Namespace: o.Namespace})
}

func render(ctx context.Context, c compose.KubeCall) error {
	p, err := c.Load(ctx)
	if err != nil {
		return err
	}
	objs, err := kube.Render(p, options(c.Options))
	if err != nil {
		return err
	}
	if c.Output == "" {
		b, err := kube.Manifests(objs)
		if err != nil {
			return err
		}
		_, err = c.Out.Write(b)
		return err
	}
	return writeManifests(c.Output, objs)
}

// writeManifests writes each object to dir/<kind>-<name>.yaml.
func writeManifests(dir string, objs []kube.Object) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	var errs []error
	for _, o := range objs {
		b, err := o.YAML()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, o.FileName()), b, 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("writing %s: %w", o.Ref(), err))
		}
	}
	return errors.Join(errs...)
}

// planProject renders p, observes the cluster, dry-runs every object and
// plans, as plan --kube, up --kube and reconcile --kube do.
func planProject(ctx context.Context, p *spec.Project, o compose.KubeOptions) (*kube.Cluster, kube.Plan, error) {
	c, err := connect(o)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	ro := options(o)
	ro.Namespace = c.Namespace
	objs, err := kube.Render(p, ro)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	obs, err := c.Observe(ctx, p.Name, objs)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	dry, err := c.DryRun(ctx, objs, o.ForceConflicts)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	plan, err := kube.PlanApply(p.Name, objs, obs, dry)
	return c, plan, err
}

// loadAndPlan is planProject of the call's stack.
func loadAndPlan(ctx context.Context, c compose.KubeCall) (*kube.Cluster, kube.Plan, error) {
	p, err := c.Load(ctx)
	if err != nil {
		return nil, kube.Plan{}, err
	}
	return planProject(ctx, p, c.Options)
}

func plan(ctx context.Context, c compose.KubeCall) error {
	_, plan, err := loadAndPlan(ctx, c)
	if err != nil {
		return err
	}
	return compose.WritePlan(c.Out, c.Format, plan)
}

func up(ctx context.Context, c compose.KubeCall) error {
	cl, plan, err := loadAndPlan(ctx, c)
	if err != nil {
		return err
	}
	if err := apply(ctx, cl, plan, c.Options.ForceConflicts, c.Out); err != nil {
		return err
	}
	if !c.Wait {
		return nil
	}
	name, err := c.ProjectName(ctx)
	if err != nil {
		return err
	}
	return cl.Wait(ctx, name, c.WaitTimeout)
}

func down(ctx context.Context, c compose.KubeCall) error {
	name, cl, err := project(ctx, c)
	if err != nil {
		return err
	}
	obs, err := cl.Observe(ctx, name, nil)
	if err != nil {
		return err
	}
	return apply(ctx, cl, kube.PlanDown(obs), false, c.Out)
}

// project is the stack's project name and the cluster it goes to.
func project(ctx context.Context, c compose.KubeCall) (string, *kube.Cluster, error) {
	name, err := c.ProjectName(ctx)
	if err != nil {
		return "", nil, err
	}
	cl, err := connect(c.Options)
	return name, cl, err
}

// apply applies a plan, a line per change done, then the summary when
// there was nothing to do.
func apply(ctx context.Context, c *kube.Cluster, plan kube.Plan, force bool, out io.Writer) error {
	err := c.Apply(ctx, plan, force, func(ch kube.Change) {
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

func ps(ctx context.Context, c compose.KubeCall) error {
	name, cl, err := project(ctx, c)
	if err != nil {
		return err
	}
	ws, err := cl.Workloads(ctx, name)
	if err != nil {
		return err
	}
	if c.Format == "json" {
		return json.NewEncoder(c.Out).Encode(ws)
	}
	tw := tabwriter.NewWriter(c.Out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSERVICE\tREADY\tSTATUS")
	for _, w := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", w.Name, w.Kind, w.Service, w.Ready, w.Status)
	}
	return tw.Flush()
}
