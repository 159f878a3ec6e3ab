package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	godigest "github.com/opencontainers/go-digest"
	"gopkg.in/yaml.v3"
)

// This file is what `config` shows besides the normalised project: the
// files' model before interpolation or normalisation, their variables,
// the interpolation environment, profiles and images pinned to digests.

// DigestResolver gives the digest of a named, undigested image, or an
// error naming why it has none.
type DigestResolver func(named string) (string, error)

// ResolveImages pins every service's image to its digest, as compose-go's
// WithImagesResolved does for `config --resolve-image-digests`
// ("docker.io/library/busybox:latest@sha256:…"); it changes only what
// Render prints.
func (p *Project) ResolveImages(resolve DigestResolver) error {
	if p.model() == nil {
		return errors.New("resolving images: the project was not loaded from compose files")
	}
	resolved, err := p.loaded.WithImagesResolved(digestResolver(resolve))
	if err != nil {
		return fmt.Errorf("resolving image digests: %w", err)
	}
	p.loaded = resolved
	return nil
}

func digestResolver(resolve DigestResolver) func(reference.Named) (godigest.Digest, error) {
	return func(named reference.Named) (godigest.Digest, error) {
		d, err := resolve(named.String())
		if err != nil {
			return "", err
		}
		return godigest.Parse(d)
	}
}

// Environment is the environment the files were interpolated with,
// "KEY=VALUE" sorted, as `config --environment` prints it.
func (p *Project) Environment() []string {
	if p.loaded == nil {
		if p.env == nil {
			return nil
		}
		return types.Mapping(p.env).Values()
	}
	return p.loaded.Environment.Values()
}

// AllProfiles are the profiles any service names, enabled or not, sorted.
func (p *Project) AllProfiles() []string {
	if p.loaded == nil && p.profiles != nil {
		return slices.Clone(p.profiles)
	}
	set := map[string]bool{}
	if p.loaded != nil {
		for _, s := range p.loaded.AllServices() {
			for _, name := range s.Profiles {
				set[name] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// ModelOptions choose how RenderModel reads the files.
type ModelOptions struct {
	Interpolate, Normalize bool
	Format                 string         // "yaml" or "json"
	Resolve                DigestResolver // pins images to digests; nil leaves them
}

// RenderModel prints the files as `docker compose config` does with
// --no-interpolate or --no-normalize: without interpolation, compose-go's
// raw model (YAML indented by two, or indented JSON); interpolated but not
// normalised, the project compose-go loads that way.
func RenderModel(ctx context.Context, o LoadOptions, m ModelOptions) ([]byte, error) {
	opts, _, _, err := o.projectOptions(cli.WithInterpolation(m.Interpolate), cli.WithNormalization(m.Normalize))
	if err != nil {
		return nil, err
	}
	if m.Interpolate {
		cp, err := opts.LoadProject(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		p := &Project{loaded: cp}
		if m.Resolve != nil {
			if err := p.ResolveImages(m.Resolve); err != nil {
				return nil, err
			}
		}
		return p.Render(m.Format)
	}
	model, err := opts.LoadModel(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if m.Resolve != nil {
		if err := resolveModelImages(model, m.Resolve); err != nil {
			return nil, err
		}
	}
	switch m.Format {
	case "json":
		return json.MarshalIndent(model, "", "  ")
	case "yaml", "":
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(model); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	default:
		return nil, fmt.Errorf("rendering project: unknown format %q (want yaml or json)", m.Format)
	}
}

// resolveModelImages pins the images of a raw model's services.
func resolveModelImages(model map[string]any, resolve DigestResolver) error {
	services, _ := model["services"].(map[string]any)
	p := &types.Project{Services: types.Services{}}
	for name, s := range services {
		if img, ok := s.(map[string]any)["image"].(string); ok {
			sc := types.ServiceConfig{Name: name}
			sc.Image = img
			p.Services[name] = sc
		}
	}
	resolved, err := p.WithImagesResolved(digestResolver(resolve))
	if err != nil {
		return fmt.Errorf("resolving image digests: %w", err)
	}
	for name, s := range resolved.Services {
		services[name].(map[string]any)["image"] = s.Image
	}
	return nil
}

// Variable is one variable the files use, as `config --variables` lists it.
type Variable = template.Variable

// Variables are the variables the files use, by name, with their
// defaults and whether they are required, read before interpolation.
func Variables(ctx context.Context, o LoadOptions) (map[string]Variable, error) {
	opts, _, _, err := o.projectOptions(cli.WithInterpolation(false))
	if err != nil {
		return nil, err
	}
	model, err := opts.LoadModel(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return template.ExtractVariables(model, template.DefaultPattern), nil
}
