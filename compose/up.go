package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

type upOptions struct {
	createOptions
	detach      bool
	noStart     bool
	timeout     *timeoutFlag
	wait        bool
	waitTimeout int // seconds; 0: no limit
	attached    attachFlags
	recreate    depsFlags
}

// depsFlags are up's flags about the services' dependencies and
// anonymous volumes.
type depsFlags struct {
	noDeps, alwaysRecreateDeps, renewAnonVolumes bool
}

func (d *depsFlags) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&d.noDeps, "no-deps", false, "don't start linked services")
	f.BoolVar(&d.alwaysRecreateDeps, "always-recreate-deps", false, "recreate dependent containers; incompatible with --no-recreate")
	f.BoolVarP(&d.renewAnonVolumes, "renew-anon-volumes", "V", false, "recreate anonymous volumes instead of retrieving data from the previous containers")
}

func (o upOptions) reconcile(services []string) reconcile.Options {
	ro := o.createOptions.reconcile(services)
	ro.NoStart = o.noStart
	if o.timeout != nil {
		ro.Timeout = o.timeout.value()
	}
	ro.NoDeps, ro.AlwaysRecreateDeps, ro.RenewAnonVolumes = o.recreate.noDeps, o.recreate.alwaysRecreateDeps, o.recreate.renewAnonVolumes
	ro.Wait = o.wait
	ro.WaitTimeout = time.Duration(o.waitTimeout) * time.Second
	return ro
}

// validate checks the flags' combinations as Docker Compose does, and
// settles what one implies of another (--wait implies -d).
func (o *upOptions) validate() error {
	if o.waitTimeout < 0 {
		return errors.New("--wait-timeout must be a non-negative integer")
	}
	a := &o.attached
	if a.exitCodeFrom != "" && !a.abortOnFailure {
		a.abortOnExit = true
	}
	if a.abortOnExit && a.abortOnFailure {
		return errors.New("--abort-on-container-failure cannot be combined with --abort-on-container-exit")
	}
	if len(a.attach) > 0 && a.dependencies {
		return errors.New("cannot combine --attach and --attach-dependencies")
	}
	if o.wait {
		if a.dependencies || a.abortOnExit || len(a.attach) > 0 {
			return errors.New("--wait cannot be combined with --abort-on-container-exit, --attach or --attach-dependencies")
		}
		o.detach = true
	}
	if o.detach && (a.dependencies || a.abortOnExit || a.abortOnFailure || len(a.attach) > 0) {
		if o.wait {
			return errors.New("--wait cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch")
		}
		return errors.New("--detach cannot be combined with --abort-on-container-exit, --abort-on-container-failure, --attach, --attach-dependencies or --watch")
	}
	if o.recreate.renewAnonVolumes && o.noRecreate {
		return errors.New("--no-recreate and --renew-anon-volumes are incompatible")
	}
	if o.recreate.alwaysRecreateDeps && o.noRecreate {
		return errors.New("--always-recreate-deps and --no-recreate are incompatible")
	}
	return nil
}

// waitFlags adds --wait and --wait-timeout.
func (o *upOptions) waitFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.wait, "wait", false, "wait for services to be running|healthy; implies detached mode")
	f.IntVar(&o.waitTimeout, "wait-timeout", 0, "maximum duration in seconds to wait for the project to be running|healthy")
}

func newUpCommand(g *globals) *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up [OPTIONS] [SERVICE...]",
		Short: "Create and start containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			var ao attachOptions
			s, err := o.converge(cmd, g, o.reconcile(args), func(s *session) (err error) {
				o.attached.noDeps = o.recreate.noDeps
				ao, err = o.attached.options(s.project, args, o.timeout.value())
				return err
			})
			if err != nil {
				return err
			}
			defer s.close()
			if o.detach || o.noStart {
				return nil
			}
			s.unlock() // attached: let other berth commands work on the project
			s.unlock = func() {}
			return attach(cmd.Context(), cmd, s, ao)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.detach, "detach", "d", false, "run containers in the background")
	f.BoolVar(&o.noStart, "no-start", false, "don't start the services after creating them")
	f.BoolP("yes", "y", false, `assume "yes" as answer to all prompts and run non-interactively (up asks nothing)`)
	o.createOptions.flags(cmd)
	o.timeout = addTimeoutFlag(cmd, "shutdown timeout in seconds for containers being replaced")
	o.waitFlags(cmd)
	o.attached.flags(cmd)
	o.recreate.flags(cmd)
	return cmd
}

// converge runs one reconcile pass of the session's project, showing its
// progress and warnings on out.
func converge(ctx context.Context, s *session, o reconcile.Options, out *progress) (reconcile.Plan, error) {
	plan, err := reconcile.Converge(ctx, s.project, s.engine, drivers(s.engine), o, out.event)
	warn(out, plan)
	return plan, err
}

// applyPlan carries out plan on e, showing its warnings and progress on out.
func applyPlan(ctx context.Context, e *engine.Engine, plan reconcile.Plan, out *progress) error {
	warn(out, plan)
	return reconcile.Apply(ctx, plan, drivers(e), 0, out.event)
}

func warn(out *progress, plan reconcile.Plan) {
	for _, w := range plan.Warnings {
		fmt.Fprintln(out.w, "WARN:", w)
	}
}

// drivers are what plans are applied through: the engine, or with
// --dry-run, nothing.
func drivers(e *engine.Engine) reconcile.Drivers {
	d := reconcile.Drivers{Images: e, Networks: e, Volumes: e, Containers: e, Builder: e}
	if currentDryRun {
		d = dryRunDrivers()
	}
	d.Parallel = currentParallel
	return d
}

func newPlanCommand(g *globals) *cobra.Command {
	var o upOptions
	var format string
	var asReconcile bool
	cmd := &cobra.Command{
		Use:   "plan [OPTIONS] [SERVICE...]",
		Short: "Show what up would change, and why, without changing anything",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := o.open(ctx, g, newProgress(io.Discard))
			if err != nil {
				return err
			}
			defer s.close()
			obs, err := s.engine.Observe(ctx, s.project) // with what builds read
			if err != nil {
				return err
			}
			ro := o.reconcile(args)
			ro.KeepStopped = asReconcile
			plan, err := reconcile.PlanUp(s.project, obs, ro)
			if err != nil {
				return err
			}
			return WritePlan(cmd.OutOrStdout(), format, plan)
		},
	}
	f := cmd.Flags()
	o.createOptions.flags(cmd) // the plan of `up` with the same flags
	f.BoolVar(&o.noStart, "no-start", false, "plan to create the containers without starting them")
	f.StringVar(&format, "format", "text", `output format: "text" or "json"`)
	f.BoolVar(&asReconcile, "reconcile", false, "plan what reconcile (--watch) would: containers stopped by the user or left down by their restart policy stay stopped")
	o.waitFlags(cmd)
	o.recreate.flags(cmd)
	return cmd
}

// WritePlan prints a plan (the host's or the cluster's) as plan --format
// asks: its text, or indented JSON.
func WritePlan(w io.Writer, format string, plan fmt.Stringer) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(plan)
	case "", "text":
		_, err := fmt.Fprint(w, plan.String())
		return err
	}
	return errors.New(`--format must be "text" or "json"`)
}
