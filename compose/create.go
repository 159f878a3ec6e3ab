package compose

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

// createOptions are the flags `create` and `up` share: how existing
// containers, orphans, replicas and pulls are treated.
type createOptions struct {
	removeOrphans bool
	forceRecreate bool
	noRecreate    bool
	scale         []string // SERVICE=NUM
	pull          string   // "" keeps each service's pull_policy
	quietPull     bool
	build         bool // --build: build images before starting containers
	noBuild       bool // --no-build: build none, even when absent
}

func (o *createOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.removeOrphans, "remove-orphans", false, "remove containers for services not defined in the compose file")
	f.BoolVar(&o.forceRecreate, "force-recreate", false, "recreate containers even if their configuration and image haven't changed")
	f.BoolVar(&o.noRecreate, "no-recreate", false, "if containers already exist, don't recreate them (incompatible with --force-recreate)")
	f.StringArrayVar(&o.scale, "scale", nil, "scale SERVICE to NUM instances; overrides the scale setting in the compose file if present")
	f.StringVar(&o.pull, "pull", "", `pull image before running ("always"|"missing"|"never")`)
	f.BoolVar(&o.quietPull, "quiet-pull", false, "pull without printing progress information")
	f.BoolVar(&o.build, "build", false, "build images before starting containers")
	f.BoolVar(&o.noBuild, "no-build", false, "don't build an image, even if it's policy")
}

func (o createOptions) reconcile(services []string) reconcile.Options {
	return reconcile.Options{Services: services, ForceRecreate: o.forceRecreate, NoRecreate: o.noRecreate,
		RemoveOrphans: o.removeOrphans || envBool("REMOVE_ORPHANS"), IgnoreOrphans: envBool("IGNORE_ORPHANS"),
		Build: o.build, NoBuild: o.noBuild}
}

// open checks the flags, opens the session and applies --scale and
// --pull to its project.
func (o createOptions) open(ctx context.Context, g *globals, out *progress) (*session, error) {
	if o.forceRecreate && o.noRecreate {
		return nil, errors.New("--force-recreate and --no-recreate are incompatible")
	}
	if o.build && o.noBuild {
		return nil, errors.New("--build and --no-build are incompatible")
	}
	opts := []engine.Option{engine.WithBuildProgress(out.build)}
	if !o.quietPull {
		opts = append(opts, engine.WithPullProgress(out.pull))
	}
	s, err := g.openStack(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if err := o.apply(s); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (o createOptions) apply(s *session) error {
	for _, kv := range o.scale {
		name, num, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("--scale %q: want SERVICE=NUM", kv)
		}
		if err := s.project.SetScale(name, n); err != nil {
			return err
		}
	}
	if o.pull != "" {
		return s.project.SetPullPolicy(o.pull)
	}
	return nil
}

// converge opens the session and converges its project with ro, as up
// and create do, saying so when there was nothing to do; check, when not
// nil, vets the project first. The caller closes the session.
func (o createOptions) converge(cmd *cobra.Command, g *globals, ro reconcile.Options, check func(*session) error) (*session, error) {
	ctx := cmd.Context()
	out := newProgress(statusOut(cmd))
	s, err := o.open(ctx, g, out)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(s); err != nil {
			s.close()
			return nil, err
		}
	}
	plan, err := converge(ctx, s, ro, out)
	if err != nil {
		s.close()
		return nil, err
	}
	if plan.Empty() {
		fmt.Fprintln(statusOut(cmd), "Nothing to do: the project is up to date.")
	}
	return s, nil
}

func newCreateCommand(g *globals) *cobra.Command {
	var o createOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [SERVICE...]",
		Short: "Creates containers for a service",
		RunE: func(cmd *cobra.Command, args []string) error {
			ro := o.reconcile(args)
			ro.NoStart = true
			s, err := o.converge(cmd, g, ro, nil)
			if err == nil {
				s.close()
			}
			return err
		},
	}
	o.flags(cmd)
	return cmd
}
