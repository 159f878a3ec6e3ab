package spec

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"
)

// RunOverrides are what `berth run`'s flags change in the service it runs.
type RunOverrides struct {
	Command     []string          // replaces the service's command when not empty
	Entrypoint  []string          // replaces the entrypoint when not nil, and the command unless Command is given
	Environment []string          // -e: "K=V", or "K" taken from the project's environment
	EnvFiles    []string          // --env-from-file: variables -e does not set
	Labels      map[string]string // -l, added to the service's
	User        string            // -u
	WorkingDir  string            // -w
	// ServicePorts keeps the service's published ports; otherwise the
	// one-off publishes only Publish (-p), as Docker Compose does.
	ServicePorts bool
	Publish      []string
	Volumes      []string // -v, the short syntax; relative bind sources are under the project directory
	// UseAliases gives the one-off the service's name and network
	// aliases; otherwise it is known by its container name only.
	UseAliases bool
	Tty        bool
	StdinOpen  bool
}

// RunService is service name as `berth run` changes it by o, checked as
// the stack file's services are.
func (p *Project) RunService(name string, o RunOverrides) (Service, error) {
	if p.model() == nil {
		return Service{}, fmt.Errorf("run: project %s was not loaded from files", p.Name)
	}
	cs, ok := p.loaded.Services[name]
	if !ok {
		return Service{}, fmt.Errorf("no such service: %s", name)
	}
	cs.Ports, cs.Volumes = slices.Clone(cs.Ports), slices.Clone(cs.Volumes)
	cs.Environment, cs.Labels = maps.Clone(cs.Environment), maps.Clone(cs.Labels)
	if len(o.Command) > 0 {
		cs.Command = o.Command
	}
	if o.Entrypoint != nil {
		cs.Entrypoint = o.Entrypoint
		if len(o.Command) == 0 {
			cs.Command = types.ShellCommand{}
		}
	}
	if o.User != "" {
		cs.User = o.User
	}
	if o.WorkingDir != "" {
		cs.WorkingDir = o.WorkingDir
	}
	cs.Tty, cs.StdinOpen = o.Tty, o.StdinOpen
	env, err := p.runEnvironment(o)
	if err != nil {
		return Service{}, err
	}
	if cs.Environment == nil {
		cs.Environment = types.MappingWithEquals{}
	}
	for k, v := range env {
		cs.Environment[k] = &v
	}
	for k, v := range o.Labels {
		if cs.Labels == nil {
			cs.Labels = types.Labels{}
		}
		cs.Labels[k] = v
	}
	if !o.ServicePorts {
		cs.Ports = nil
		for _, pub := range o.Publish {
			ports, err := types.ParsePortConfig(pub)
			if err != nil {
				return Service{}, fmt.Errorf("--publish %s: %w", pub, err)
			}
			cs.Ports = append(cs.Ports, ports...)
		}
	}
	for _, v := range o.Volumes {
		vol, err := format.ParseVolume(v)
		if err != nil {
			return Service{}, fmt.Errorf("--volume %s: %w", v, err)
		}
		if vol.Type == types.VolumeTypeBind && !filepath.IsAbs(vol.Source) {
			vol.Source = filepath.Join(p.WorkingDir, vol.Source)
		}
		if vol.Type == types.VolumeTypeVolume {
			if _, ok := p.Volumes[vol.Source]; !ok {
				return Service{}, fmt.Errorf("--volume %s: volume %q is not declared in the project's volumes", v, vol.Source)
			}
		}
		cs.Volumes = append(cs.Volumes, vol)
	}
	var ps problems
	svc := convertService(cs, p.loaded, &ps)
	if len(ps) > 0 {
		lines := make([]string, len(ps))
		for i, pr := range ps {
			lines[i] = "run: " + subject(pr.path) + pr.msg
		}
		return Service{}, fmt.Errorf("%w: %s", ps[0].kind, strings.Join(lines, "\n"))
	}
	nets := make(map[string]ServiceNetwork, len(svc.Networks))
	for key, n := range svc.Networks {
		n.Aliases = nil
		if o.UseAliases {
			n.Aliases = append([]string{svc.Name}, svc.Networks[key].Aliases...)
		}
		nets[key] = n
	}
	svc.Networks = nets
	svc.ContainerName = ""
	return svc, nil
}

// runEnvironment is what -e and --env-from-file set: -e's "K" takes K
// from the project's environment (left out when unset there), and a
// file's variables fill in what -e does not set.
func (p *Project) runEnvironment(o RunOverrides) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range o.Environment {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			if v, ok = p.LookupEnv(k); !ok {
				continue
			}
		}
		env[k] = v
	}
	for _, file := range o.EnvFiles {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--env-from-file: %w", err)
		}
		vars, err := dotenv.ParseWithLookup(f, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--env-from-file %s: %w", file, err)
		}
		for k, v := range vars {
			if _, set := env[k]; !set {
				env[k] = v
			}
		}
	}
	return env, nil
}
