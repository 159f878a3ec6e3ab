package image

import (
	"maps"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is one image in the store, as seen through one reference.
type Image struct {
	Ref         string   // normalised reference, e.g. "docker.io/library/busybox:latest"; "" when untagged
	ID          string   // config digest "sha256:…" (Docker's image ID)
	Digest      string   // image manifest digest "sha256:…"
	IndexDigest string   // multi-platform index the manifest was selected from, "" when none
	Platform    string   // "os/arch[/variant]" from the config
	Config      Config   // the runtime configuration
	DiffIDs     []string // layer diff IDs ("sha256:…"), bottom first
	RepoDigest  string   // "repo@sha256:…" the registry knows it by (pulled or pushed), "" otherwise
	Size        int64    // compressed layers plus config, in bytes, as Docker reports it
	Created     time.Time
	// Pulled is when its reference was last pulled; zero when it never was
	// (built, loaded, imported).
	Pulled time.Time
}

// Config is the part of an image's configuration a container runtime uses.
type Config struct {
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	User         string
	StopSignal   string
	Labels       map[string]string
	ExposedPorts []string         // "80/tcp", sorted
	Volumes      []string         // sorted
	Healthcheck  *v1.HealthConfig // the image's HEALTHCHECK, nil for none
	Shell        []string         // the image's SHELL, nil for the default
	OnBuild      []string         // ONBUILD triggers, run by a build FROM this image
}

// configFrom converts an OCI image configuration.
func configFrom(c v1.Config) Config {
	return Config{
		Entrypoint:   c.Entrypoint,
		Cmd:          c.Cmd,
		Env:          c.Env,
		WorkingDir:   c.WorkingDir,
		User:         c.User,
		StopSignal:   c.StopSignal,
		Labels:       c.Labels,
		ExposedPorts: slices.Sorted(maps.Keys(c.ExposedPorts)),
		Volumes:      slices.Sorted(maps.Keys(c.Volumes)),
		Healthcheck:  c.Healthcheck,
		Shell:        c.Shell,
		OnBuild:      c.OnBuild,
	}
}

// toV1 converts back to the OCI form, for images berth writes itself.
func (c Config) toV1() v1.Config {
	out := v1.Config{
		Entrypoint:  c.Entrypoint,
		Cmd:         c.Cmd,
		Env:         c.Env,
		WorkingDir:  c.WorkingDir,
		User:        c.User,
		StopSignal:  c.StopSignal,
		Labels:      c.Labels,
		Healthcheck: c.Healthcheck,
		Shell:       c.Shell,
		OnBuild:     c.OnBuild,
	}
	if len(c.ExposedPorts) > 0 {
		out.ExposedPorts = map[string]struct{}{}
		for _, p := range c.ExposedPorts {
			out.ExposedPorts[p] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		out.Volumes = map[string]struct{}{}
		for _, v := range c.Volumes {
			out.Volumes[v] = struct{}{}
		}
	}
	return out
}
