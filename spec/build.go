package spec

import (
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Build is a service's `build:` section: how berth makes its image from a
// Dockerfile. It is recorded with the containers but not hashed (as in
// Docker Compose, a change of the build section changes the image, which
// recreates the containers, not the containers themselves).
type Build struct {
	Context          string            `json:"context,omitempty"`           // absolute directory
	Dockerfile       string            `json:"dockerfile,omitempty"`        // absolute path; "" with DockerfileInline
	DockerfileInline string            `json:"dockerfile_inline,omitempty"` // the Dockerfile's content
	Args             map[string]string `json:"args,omitempty"`              // build args; an arg without a value is left out
	Target           string            `json:"target,omitempty"`
	Tags             []string          `json:"tags,omitempty"`   // more references the image is tagged with, sorted
	Labels           map[string]string `json:"labels,omitempty"` // added to the image's configuration
	NoCache          bool              `json:"no_cache,omitempty"`
	Pull             bool              `json:"pull,omitempty"`
	Network          string            `json:"network,omitempty"`     // RUN's network: "" (a default one), "host" or "none"
	ExtraHosts       []ExtraHost       `json:"extra_hosts,omitempty"` // for RUN's /etc/hosts
	// Secrets are the build secrets by id (the target, else the source's
	// name), each a host file.
	Secrets map[string]string `json:"secrets,omitempty"`
	ShmSize int64             `json:"shm_size,omitempty"` // bytes of RUN's /dev/shm; 0: 64 MiB
	// AdditionalContexts are named contexts, as BuildKit's: FROM NAME and
	// COPY --from=NAME read them. Each is an absolute directory,
	// "docker-image://REF" or "service:NAME" (the image of another
	// service, built first when it builds).
	AdditionalContexts map[string]string `json:"additional_contexts,omitempty"`
}

// ContextService is the service an additional context names with
// "service:NAME", "" for other contexts.
func ContextService(value string) string {
	name, _ := strings.CutPrefix(value, types.ServicePrefix)
	if name == value {
		return ""
	}
	return name
}

// unsupportedBuild are the keys of a build section berth does not honour
// yet: refused at load rather than silently ignored.
var unsupportedBuild = []string{
	"services.*.build.cache_from", "services.*.build.cache_to", "services.*.build.no_cache_filter",
	"services.*.build.ssh", "services.*.build.isolation", "services.*.build.privileged",
	"services.*.build.ulimits", "services.*.build.entitlements", "services.*.build.provenance",
	"services.*.build.sbom",
}

func init() { unsupportedPaths = append(unsupportedPaths, unsupportedBuild...) }

// DefaultImageName is the image a service with a build section and no
// `image:` is tagged with, as Docker Compose names it.
func DefaultImageName(project, service string) string { return project + "-" + service }

// convertBuild converts cs's build section into s.Build, names its image
// when `image:` does not, and checks pull_policy against it.
func convertBuild(s *Service, cs types.ServiceConfig, cp *types.Project, ps *problems) {
	at := serviceAt(cs.Name)
	if cs.Build == nil {
		if s.PullPolicy == types.PullPolicyBuild {
			ps.invalid("pull_policy build needs a build section", at("pull_policy")...)
		}
		return
	}
	if s.Image == "" {
		s.Image = DefaultImageName(cp.Name, cs.Name)
	}
	cb := cs.Build
	b := &Build{
		Context:          cb.Context,
		DockerfileInline: cb.DockerfileInline,
		Target:           cb.Target,
		NoCache:          cb.NoCache,
		Pull:             cb.Pull,
		Tags:             sortedOrNil(slices.Clone([]string(cb.Tags))),
		Labels:           maps.Clone(map[string]string(cb.Labels)),
	}
	if b.Context == "" {
		b.Context = cp.WorkingDir
	}
	if remoteContext(b.Context) {
		ps.unsupported("build context "+strconv.Quote(b.Context)+" (a git repository or URL)", at("build", "context")...)
	} else if !filepath.IsAbs(b.Context) {
		b.Context = filepath.Join(cp.WorkingDir, b.Context)
	}
	if cb.DockerfileInline == "" {
		df := cb.Dockerfile
		if df == "" {
			df = "Dockerfile"
		}
		if !filepath.IsAbs(df) {
			df = filepath.Join(b.Context, df)
		}
		b.Dockerfile = df
	} else if cb.Dockerfile != "" {
		ps.invalid("build: dockerfile and dockerfile_inline cannot both be set", at("build", "dockerfile")...)
	}
	for k, v := range cb.Args {
		if v != nil { // `- FOO` with FOO unset: left out, as Compose does
			if b.Args == nil {
				b.Args = map[string]string{}
			}
			b.Args[k] = *v
		}
	}
	switch cb.Network {
	case "", "default":
	case "host", "none":
		b.Network = cb.Network
	default:
		ps.unsupported("build network "+strconv.Quote(cb.Network)+` (only "default", "host" and "none")`, at("build", "network")...)
	}
	b.ExtraHosts = nilIfNone(extraHosts(cb.ExtraHosts, ps, at("build", "extra_hosts")))
	host := "linux/" + runtime.GOARCH
	switch {
	case len(cb.Platforms) > 1:
		ps.unsupported("building for more than one platform ("+strings.Join(cb.Platforms, ", ")+")", at("build", "platforms")...)
	case len(cb.Platforms) == 1 && strings.TrimSuffix(cb.Platforms[0], "/") != host:
		ps.unsupported("build platform "+cb.Platforms[0]+" (only the host's, "+host+")", at("build", "platforms")...)
	}
	for _, ref := range cb.Secrets {
		src, ok := cp.Secrets[ref.Source]
		switch {
		case !ok:
			ps.invalid("build secret "+strconv.Quote(ref.Source)+" is not declared in the top-level secrets", at("build", "secrets")...)
			continue
		case src.File == "":
			ps.unsupported("build secret "+strconv.Quote(ref.Source)+" from anything but a file", at("build", "secrets")...)
			continue
		}
		id := ref.Source
		if ref.Target != "" {
			id = ref.Target
		}
		if b.Secrets == nil {
			b.Secrets = map[string]string{}
		}
		b.Secrets[id] = src.File
	}
	b.ShmSize = int64(cb.ShmSize)
	for name, value := range cb.AdditionalContexts {
		switch svc := ContextService(value); {
		case svc != "":
			other, ok := cp.Services[svc]
			if !ok || svc == cs.Name || (other.Build == nil && other.Image == "") {
				ps.invalid("build additional context "+strconv.Quote(name)+": no other service "+strconv.Quote(svc)+" with an image", at("build", "additional_contexts")...)
				continue
			}
		case strings.HasPrefix(value, "docker-image://"):
		case strings.Contains(value, "://") || remoteContext(value):
			ps.unsupported("build additional context "+strconv.Quote(name)+" = "+strconv.Quote(value)+" (only directories, docker-image:// and service:)", at("build", "additional_contexts")...)
			continue
		}
		if b.AdditionalContexts == nil {
			b.AdditionalContexts = map[string]string{}
		}
		b.AdditionalContexts[name] = value
	}
	s.Build = b
}

// remoteContext reports whether a build context is a URL or git
// repository rather than a directory.
func remoteContext(c string) bool {
	return strings.Contains(c, "://") || strings.HasPrefix(c, "git@") || strings.HasPrefix(c, "github.com/") || strings.HasSuffix(c, ".git")
}

// BuildServices returns the services of p that have a build section, in
// project order.
func (p *Project) BuildServices() []Service {
	var out []Service
	for _, s := range p.Services {
		if s.Build != nil {
			out = append(out, s)
		}
	}
	return out
}

// SetBuildArgs sets build args (--build-arg) on every service that builds,
// over the stack file's.
func (p *Project) SetBuildArgs(args map[string]string) {
	for i := range p.Services {
		if b := p.Services[i].Build; b != nil && len(args) > 0 {
			nb := *b
			nb.Args = maps.Clone(b.Args)
			if nb.Args == nil {
				nb.Args = map[string]string{}
			}
			maps.Copy(nb.Args, args)
			p.Services[i].Build = &nb
		}
	}
}
