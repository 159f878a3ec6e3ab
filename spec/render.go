package spec

import (
	"errors"
	"fmt"
)

// Render prints the normalised project as `docker compose config` does:
// format "yaml" or "json", through compose-go's own marshalling of the
// loaded project. It fails for a Project that Load did not make.
//
// Secrets never leak: a secret's content (the value of its `environment:`
// variable, which compose-go keeps in the model) is dropped, key and all,
// as `docker compose config` does; a secret shows only where its content
// comes from (file, environment variable name, external). A config's
// inline `content:` is printed; an environment-sourced config shows the
// variable's name, not its value.
func (p *Project) Render(format string) ([]byte, error) {
	if p.model() == nil {
		return nil, errors.New("rendering project: it was not loaded from compose files")
	}
	switch format {
	case "yaml", "":
		return p.loaded.MarshalYAML()
	case "json":
		return p.loaded.MarshalJSON()
	default:
		return nil, fmt.Errorf("rendering project: unknown format %q (want yaml or json)", format)
	}
}

// Service returns the enabled service called name.
func (p *Project) Service(name string) (*Service, bool) {
	for i := range p.Services {
		if p.Services[i].Name == name {
			return &p.Services[i], true
		}
	}
	return nil, false
}

// SetScale makes service name run n containers, as `--scale NAME=N` does.
func (p *Project) SetScale(name string, n int) error {
	s, ok := p.Service(name)
	switch {
	case !ok:
		return fmt.Errorf("--scale: no such service: %s", name)
	case n < 0:
		return fmt.Errorf("--scale %s=%d: the number of containers cannot be negative", name, n)
	case n > 1 && s.ContainerName != "":
		return fmt.Errorf("--scale %s=%d: service %q has container_name %q, so it cannot have more than one replica", name, n, name, s.ContainerName)
	}
	s.Scale = n
	return nil
}

// SetPullPolicy gives every service pull policy policy, as `--pull` does:
// "always", "missing" or "never".
func (p *Project) SetPullPolicy(policy string) error {
	switch policy {
	case "always", "missing", "never":
	case "build":
		return errors.New(`--pull build: building images is not supported yet`)
	default:
		return fmt.Errorf(`--pull %q: must be "always", "missing" or "never"`, policy)
	}
	for i := range p.Services {
		p.Services[i].PullPolicy = policy
	}
	return nil
}
