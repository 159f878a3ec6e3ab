package compose

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/spf13/cobra"
)

// buildAndPush is up --kube --build's first part: it builds the images of
// the services with a build section on this host, with the existing
// builder, pushes them to the registry their image names, and returns
// each one pinned to the digest the registry gave it, by service.
func buildAndPush(cmd *cobra.Command, g *globals) (map[string]string, error) {
	ctx := cmd.Context()
	out := newProgress(statusOut(cmd))
	s, err := g.openStack(ctx, engine.WithBuildProgress(out.build), engine.WithPullProgress(out.pull))
	if err != nil {
		return nil, err
	}
	defer s.close()
	var names []string
	for _, svc := range s.project.BuildServices() {
		if svc.Image == spec.DefaultImageName(s.project.Name, svc.Name) {
			return nil, fmt.Errorf("service %q: up --kube --build pushes the image it builds: name it, with its registry, in image", svc.Name)
		}
		names = append(names, svc.Name)
	}
	if len(names) == 0 {
		return nil, nil
	}
	if err := s.run(ctx, out, func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanBuild(s.project, obs, names, false, reconcile.BuildOptions{})
	}); err != nil {
		return nil, err
	}
	push, err := reconcile.PlanPush(s.project, names, false)
	if err != nil {
		return nil, err
	}
	if err := s.apply(ctx, push, out); err != nil {
		return nil, err
	}
	return pinned(ctx, s, names)
}

// pinned is each named service's image with the digest it was pushed as.
func pinned(_ context.Context, s *session, names []string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range names {
		svc, _ := s.project.Service(name)
		img, err := s.engine.Images.Get(svc.Image)
		if err != nil {
			return nil, fmt.Errorf("reading the pushed image %s: %w", svc.Image, err)
		}
		_, digest, ok := strings.Cut(img.RepoDigest, "@")
		if !ok {
			return nil, errors.New("the pushed image " + svc.Image + " has no registry digest")
		}
		out[name] = svc.Image + "@" + digest
	}
	return out, nil
}
