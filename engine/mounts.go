package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/volume"
)

// mounts turns the service's volumes, binds, tmpfs, volumes_from, configs
// and secrets into runtime mounts, checking every source first, and adds
// the generated /etc files.
func (e *Engine) mounts(ctx context.Context, c reconcile.ContainerSpec, img *image.Image) ([]runtime.Mount, error) {
	var out []runtime.Mount
	covered := map[string]bool{}
	for _, m := range spec.ContainerMounts(c.Service, img.Config.Volumes) {
		rm, err := e.mount(c, m)
		if err != nil {
			return nil, err
		}
		out = append(out, rm)
		covered[m.Target] = true
	}
	from, err := e.volumesFrom(c, covered)
	if err != nil {
		return nil, err
	}
	out = append(out, from...)
	files, err := e.fileRefs(c)
	if err != nil {
		return nil, err
	}
	out = append(out, files...)
	etc, err := e.writeEtc(ctx, c)
	if err != nil {
		return nil, err
	}
	return append(out, etc...), nil
}

// mount prepares one mount of the service.
func (e *Engine) mount(c reconcile.ContainerSpec, m spec.Mount) (runtime.Mount, error) {
	switch m.Type {
	case spec.MountVolume:
		name := c.Volumes[m.Source].Name
		if m.Source == "" {
			if name = c.Anonymous[m.Target]; name == "" {
				return runtime.Mount{}, fmt.Errorf("service %q: no anonymous volume was planned for %s", c.Service.Name, m.Target)
			}
		}
		return e.volumeMount(name, m)
	case spec.MountBind:
		if err := volume.PrepareBind(m.Source, m.CreateHostPath); err != nil {
			return runtime.Mount{}, fmt.Errorf("service %q: bind %s: %w", c.Service.Name, m.Target, err)
		}
		return bindMount(m), nil
	case spec.MountTmpfs:
		return tmpfsMount(m), nil
	}
	return runtime.Mount{}, fmt.Errorf("mount at %s: unknown type %q", m.Target, m.Type)
}

// volumeMount mounts named volume name at m.Target. The plan has filled
// it from the image first where Docker would (FillVolume).
func (e *Engine) volumeMount(name string, m spec.Mount) (runtime.Mount, error) {
	src, err := e.volumes.Source(name)
	if err != nil {
		return runtime.Mount{}, fmt.Errorf("volume %s: %w", name, err)
	}
	return volumeBind(m, src), nil
}

// Fill copies what image holds at path into volume name (Docker's
// copy-up), unless the volume holds something already or is a tmpfs:
// data in a volume is never overwritten.
func (e *Engine) Fill(ctx context.Context, name, ref, path string) error {
	if empty, err := e.fillable(name); err != nil || !empty {
		return err
	}
	img, err := e.Images.Get(ref)
	if err != nil {
		return fmt.Errorf("image %q: %w", ref, err)
	}
	layers, err := e.Images.Snapshots(ctx, img)
	if err != nil {
		return err
	}
	src, err := e.volumes.Source(name)
	if err != nil {
		return err
	}
	if err := volume.CopyUp(layers, path, src.Path); err != nil {
		return fmt.Errorf("copying the image's %s into it: %w", path, err)
	}
	return nil
}

// fillable reports whether volume name is empty and on disk: one a new
// container fills from its image.
func (e *Engine) fillable(name string) (bool, error) {
	src, err := e.volumes.Source(name)
	if err != nil || src.Type == "tmpfs" {
		return false, err
	}
	return e.volumes.IsEmpty(name)
}

// volumesFrom mounts what the containers named in volumes_from mount
// (volumes and binds, not their generated /etc files), read-only when asked.
func (e *Engine) volumesFrom(c reconcile.ContainerSpec, covered map[string]bool) ([]runtime.Mount, error) {
	var out []runtime.Mount
	for _, from := range c.VolumesFrom {
		cfg, err := e.runtime.Config(from.Container)
		if err != nil {
			return nil, fmt.Errorf("volumes_from %s: %w", from.Container, err)
		}
		ro := from.ReadOnly
		for _, m := range cfg.Mounts {
			if m.Type != "bind" || covered[m.Target] || strings.HasPrefix(m.Source, e.RunRoot+string(os.PathSeparator)) {
				continue // its /etc files, configs and secrets stay its own
			}
			m.ReadOnly = m.ReadOnly || ro
			out = append(out, m)
			covered[m.Target] = true
		}
	}
	return out, nil
}

// filesDir holds container name's config and secret files, a tmpfs of
// its own under the run root: their content never reaches a disk.
func (e *Engine) filesDir(name string) string { return filepath.Join(e.RunRoot, "files", name) }

// fileRefs writes the service's configs and secrets and mounts them
// read-only at their targets.
func (e *Engine) fileRefs(c reconcile.ContainerSpec) ([]runtime.Mount, error) {
	var out []runtime.Mount
	if len(c.Service.Configs)+len(c.Service.Secrets) > 0 {
		if err := ensureTmpfs(e.filesDir(c.Name), filesTmpfsOptions); err != nil {
			return nil, err
		}
	}
	for _, set := range []struct {
		kind    string
		refs    []spec.FileRef
		sources map[string]spec.FileSource
	}{{"configs", c.Service.Configs, c.Configs}, {"secrets", c.Service.Secrets, c.Secrets}} {
		for _, r := range set.refs {
			data, err := fileContent(set.sources[r.Source])
			if err != nil {
				return nil, fmt.Errorf("service %q: %s %q: %w", c.Service.Name, set.kind[:len(set.kind)-1], r.Source, err)
			}
			uid, gid, mode := fileOwner(r)
			path, err := volume.WriteFileRef(filepath.Join(e.filesDir(c.Name), set.kind), r.Source, data, uid, gid, mode)
			if err != nil {
				return nil, err
			}
			out = append(out, runtime.Mount{Type: "bind", Source: path, Target: r.Target, ReadOnly: true})
		}
	}
	return out, nil
}

// fileContent reads a config's or secret's content from its source.
func fileContent(src spec.FileSource) ([]byte, error) {
	switch {
	case src.External:
		return nil, errors.New("external configs and secrets need a swarm, which berth does not have")
	case src.File != "":
		return os.ReadFile(src.File)
	}
	return []byte(src.Content), nil
}

// fileOwner is the owner and mode of a config's or secret's file:
// root's and 0444 unless the service says.
func fileOwner(r spec.FileRef) (uid, gid int, mode os.FileMode) {
	mode = 0o444
	if r.UID != nil {
		uid = *r.UID
	}
	if r.GID != nil {
		gid = *r.GID
	}
	if r.Mode != nil {
		mode = os.FileMode(*r.Mode)
	}
	return uid, gid, mode
}
