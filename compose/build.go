package compose

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

// buildOptions are `berth build`'s flags.
type buildOptions struct {
	noCache, pull, quiet, withDeps bool
	args                           []string // --build-arg KEY=VALUE or KEY (from the environment)
}

// buildArgs parses --build-arg values: KEY=VALUE, or KEY alone for the
// environment's value (left out when unset), as Docker Compose does.
func buildArgs(in []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range in {
		k, v, ok := strings.Cut(a, "=")
		if k == "" {
			return nil, fmt.Errorf("--build-arg %q: want KEY=VALUE or KEY", a)
		}
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				continue
			}
		}
		out[k] = v
	}
	return out, nil
}

func newBuildCommand(g *globals) *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] [SERVICE...]",
		Short: "Build or rebuild services",
		RunE: func(cmd *cobra.Command, services []string) error {
			args, err := buildArgs(o.args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			out := newProgress(outOrDiscard(cmd, o.quiet))
			s, err := g.openStack(ctx, engine.WithBuildProgress(out.build), engine.WithPullProgress(out.pull))
			if err != nil {
				return err
			}
			defer s.close()
			s.project.SetBuildArgs(args)
			obs, err := s.engine.Observe(ctx, s.project) // with what builds read
			if err != nil {
				return err
			}
			plan, err := reconcile.PlanBuild(s.project, obs, services, o.withDeps, reconcile.BuildOptions{NoCache: o.noCache, Pull: o.pull})
			if err != nil {
				return err
			}
			return s.apply(ctx, plan, out)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.noCache, "no-cache", false, "do not use cache when building the image")
	f.BoolVar(&o.pull, "pull", false, "always attempt to pull a newer version of the image")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "don't print anything to STDOUT")
	f.BoolVar(&o.withDeps, "with-dependencies", false, "also build dependencies (transitively)")
	f.StringArrayVar(&o.args, "build-arg", nil, "set build-time variables for services")
	return cmd
}
