package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-dev/berth/spec"
)

// Build is the kind of an action that builds a service's image from its
// Dockerfile.
const Build Kind = "build"

// Builder builds images.
type Builder interface {
	// Build builds b's image and records what it was built from.
	Build(ctx context.Context, b BuildSpec) error
}

// BuildSpec is everything a Build action needs.
type BuildSpec struct {
	Project string
	Service string
	Image   string     // the reference the result is tagged with
	Build   spec.Build // the service's build section, with the command's --no-cache, --pull and --build-arg applied
	// NetworkKey and Network are the project network RUN joins for
	// egress (the service's first, as its containers' primary one) when
	// the build section sets no network; nil: loopback only.
	NetworkKey string
	Network    *spec.Network
}

// BuildInputs are digests of what a build reads, to know whether an image
// is still what its build section would make.
type BuildInputs struct {
	Dockerfile string `json:"dockerfile"` // the Dockerfile's content
	Context    string `json:"context"`    // the context's files (those .dockerignore keeps): names, modes, content
	Args       string `json:"args"`       // build args, target and the other options that change the result
}

// BuildState is what Observe knows of a built service's image: set when
// berth built the local image, to compare with what its build reads now.
type BuildState struct {
	Inputs BuildInputs  // what its build reads now
	Built  *BuildInputs // what the local image was built from; nil when berth did not build it (or the inputs cannot be read now)
}

// Changes names what differs between inputs and what an image was built
// from: "Dockerfile changed", "context changed", "build args changed".
func (b BuildInputs) Changes(built BuildInputs) []string {
	var out []string
	if b.Dockerfile != built.Dockerfile {
		out = append(out, "Dockerfile changed")
	}
	if b.Context != built.Context {
		out = append(out, "context changed")
	}
	if b.Args != built.Args {
		out = append(out, "build args changed")
	}
	return out
}

// BuildOptions are `berth build`'s changes to every build (--build-arg
// is applied to the project before it is observed: it changes the inputs).
type BuildOptions struct {
	NoCache bool // --no-cache
	Pull    bool // --pull
}

func buildID(ref string) string { return "build:" + ref }

// planBuilds plans the builds of the services that build, after the
// networks their RUN steps join (up --build forces them).
func (pl *planner) planBuilds(p *spec.Project, services []spec.Service, obs Observed, o Options) {
	forced := ""
	if o.Build {
		forced = "--build"
	}
	for _, svc := range withContextServices(p, services) {
		if svc.Build != nil {
			pl.planBuild(p, svc, obs, o, forced)
		}
	}
	pl.orderBuilds(p)
}

// withContextServices is services and, transitively, the services their
// builds' additional contexts name ("service:NAME"), whose images those
// builds read: built when needed even when not selected, as Docker
// Compose's builder does.
func withContextServices(p *spec.Project, services []spec.Service) []spec.Service {
	out := slices.Clone(services)
	for i := 0; i < len(out); i++ {
		if out[i].Build == nil {
			continue
		}
		for _, v := range out[i].Build.AdditionalContexts {
			name := spec.ContextService(v)
			if name == "" || slices.ContainsFunc(out, func(s spec.Service) bool { return s.Name == name }) {
				continue
			}
			if svc, ok := p.Service(name); ok {
				out = append(out, *svc)
			}
		}
	}
	return out
}

// orderBuilds makes each build wait for the builds of the services its
// service depends on, whose images its Dockerfile may start FROM, and of
// those its additional contexts name.
func (pl *planner) orderBuilds(p *spec.Project) {
	for i, a := range pl.plan.Actions {
		if a.Kind != Build {
			continue
		}
		svc, _ := p.Service(a.Service)
		deps := sortedKeys(svc.DependsOn)
		for _, v := range svc.Build.AdditionalContexts {
			deps = append(deps, spec.ContextService(v))
		}
		for _, dep := range deps {
			if d, ok := p.Service(dep); ok && d.Build != nil && d.Image != a.Target {
				pl.after(&pl.plan.Actions[i], buildID(d.Image))
			}
		}
	}
}

// withContextImages is b with each "service:NAME" additional context
// made the image of that service ("docker-image://IMAGE"), as Docker
// Compose passes it to the builder.
func withContextImages(p *spec.Project, b spec.Build) spec.Build {
	named := map[string]string{}
	for name, v := range b.AdditionalContexts {
		if svc, ok := p.Service(spec.ContextService(v)); ok {
			v = "docker-image://" + svc.Image
		}
		named[name] = v
	}
	if len(named) > 0 {
		b.AdditionalContexts = named
	}
	return b
}

// buildNetwork is the key of the network the RUN steps of svc's build
// join: its first network when the build section names none.
func buildNetwork(svc spec.Service) string {
	if svc.Build.Network != "" || len(svc.Networks) == 0 {
		return ""
	}
	return sortedKeys(svc.Networks)[0]
}

// planBuild plans the build of svc's image: when it is absent, when
// pull_policy is build, and when forced says why (up --build, berth build). Without o.Build,
// an image built from other inputs than the stack's now is kept, with a
// warning, as Docker Compose keeps it.
func (pl *planner) planBuild(p *spec.Project, svc spec.Service, obs Observed, o Options, forced string) {
	id := buildID(svc.Image)
	if pl.has(id) || o.SkipBuild {
		return
	}
	_, present := obs.Images[svc.Image]
	st := obs.Builds[svc.Image]
	var changed []string
	if st.Built != nil {
		changed = st.Inputs.Changes(*st.Built)
	}
	var reason string
	switch {
	case o.NoBuild:
		if !present {
			pl.fail("service %q: image %s is not present and --no-build was given", svc.Name, svc.Image)
		}
		return
	case !present:
		reason = "no image yet"
	case len(changed) > 0 && (forced != "" || svc.PullPolicy == "build"):
		reason = strings.Join(changed, ", ")
	case forced != "":
		reason = forced
	case svc.PullPolicy == "build":
		reason = "pull_policy is build"
	default:
		if len(changed) > 0 {
			pl.plan.Warnings = append(pl.plan.Warnings, fmt.Sprintf("image %s was built from other inputs (%s): `up --build` rebuilds it", svc.Image, strings.Join(changed, ", ")))
		}
		return
	}
	a := Action{ID: id, Kind: Build, Target: svc.Image, Service: svc.Name, Reason: reason,
		Build: &BuildSpec{Project: pl.plan.Project, Service: svc.Name, Image: svc.Image, Build: withContextImages(p, *svc.Build)}}
	if key := buildNetwork(svc); key != "" {
		n := p.Networks[key]
		a.Build.NetworkKey, a.Build.Network = key, &n
		pl.after(&a, "network:"+n.Name)
	}
	pl.add(a)
	if reason != forced && reason != "pull_policy is build" {
		pl.rebuilds[svc.Image] = true
	}
}

// rebuilt reports whether container c, made from image imageID, is to be
// recreated because its image is (or was just) built anew: in this plan
// when the build's inputs changed, or in a pass after the builds
// (o.Rebuilt) when the image's ID is another.
func (pl *planner) rebuilt(image string, c Container, imageID string, present bool, o Options) bool {
	if pl.rebuilds[image] {
		return true
	}
	return present && c.ImageID != imageID && slices.Contains(o.Rebuilt, image)
}

// afterBuild makes a wait for the build of image when the plan has one.
func (pl *planner) afterBuild(a *Action, image string) { pl.after(a, buildID(image)) }

// PlanBuild plans `berth build`: the image of each named service that
// builds (all when none is named; with deps, of the services they depend
// on too), whatever the host holds, each with its reason, after the
// networks their RUN steps join.
func PlanBuild(p *spec.Project, obs Observed, services []string, withDeps bool, bo BuildOptions) (Plan, error) {
	selected, err := selectServices(p, services, !withDeps)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	var builds []spec.Service
	for _, svc := range ApplyBuildOptions(selected, bo) {
		if svc.Build != nil {
			builds = append(builds, svc)
		}
	}
	pl.planNetworks(p, slices.DeleteFunc(slices.Clone(builds), func(s spec.Service) bool { return buildNetwork(s) == "" }), obs)
	for _, svc := range builds {
		pl.planBuild(p, svc, obs, Options{}, "requested")
	}
	pl.orderBuilds(p)
	return pl.finish()
}

// ApplyBuildOptions returns services with the command line's build
// options applied to their build sections.
func ApplyBuildOptions(services []spec.Service, bo BuildOptions) []spec.Service {
	out := slices.Clone(services)
	for i, s := range out {
		if s.Build == nil {
			continue
		}
		b := *s.Build
		b.NoCache = b.NoCache || bo.NoCache
		b.Pull = b.Pull || bo.Pull
		out[i].Build = &b
	}
	return out
}

// Prepare is the part of a plan up carries out before planning the rest
// again: the pulls and builds (which decide the images, and so which
// containers are recreated) and the networks the builds join.
func (p Plan) Prepare() Plan {
	keep := map[string]bool{}
	for _, a := range p.Actions {
		if a.Kind == Pull || a.Kind == Build {
			keep[a.ID] = true
			for _, id := range a.After {
				keep[id] = true
			}
		}
	}
	out := Plan{Project: p.Project, Warnings: p.Warnings}
	for _, a := range p.Actions {
		if keep[a.ID] {
			a.After = slices.DeleteFunc(slices.Clone(a.After), func(id string) bool { return !keep[id] })
			out.Actions = append(out.Actions, a)
		}
	}
	return out
}
