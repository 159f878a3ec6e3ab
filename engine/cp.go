package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/berth-dev/berth/fscopy"
	"github.com/berth-dev/berth/store"
)

// CopyOptions are the flags of `cp`.
type CopyOptions struct {
	Archive    bool // -a: keep the source's uid/gid; else the destination side's user owns the copy
	FollowLink bool // -L: follow a symlink that is the source path's last element
}

// CopyTargets names the containers `cp` uses for service: container
// number index when index > 0; else every container of the service when
// copying into them, and the first when copying from them. One-off
// containers (berth run's) count only with all, after the others.
func (e *Engine) CopyTargets(ctx context.Context, project, service string, index int, from, all bool) ([]string, error) {
	recs, err := e.store.Containers(ctx, project)
	if err != nil {
		return nil, err
	}
	var names []string
	oneOff := func(r store.Container) bool { return r.Labels[labelOneOff] == "True" }
	slices.SortStableFunc(recs, func(a, b store.Container) int {
		if oneOff(a) != oneOff(b) {
			if oneOff(a) {
				return 1
			}
			return -1
		}
		return a.Number - b.Number
	})
	for _, r := range recs {
		if r.Service == service && (index <= 0 || r.Number == index) && (all || !oneOff(r)) {
			names = append(names, r.Name)
		}
	}
	switch {
	case len(names) == 0 && index > 0:
		return nil, fmt.Errorf("service %q is not running container #%d", service, index)
	case len(names) == 0:
		return nil, fmt.Errorf("no container found for service %q", service)
	case from:
		return names[:1], nil
	}
	return names, nil
}

// CopyToContainer copies host path src (absolute), or the tar stream in
// when src is "-", to dst in container name, running or not. Without
// Archive the copy belongs to root (0:0), as with docker cp.
func (e *Engine) CopyToContainer(ctx context.Context, name, src string, in io.Reader, dst string, o CopyOptions) error {
	owner := fscopy.Owner{Keep: o.Archive}
	err := e.runtime.InFilesystem(ctx, name, func(root string) error {
		ctr, err := fscopy.OpenRoot(root)
		if err != nil {
			return err
		}
		defer ctr.Close()
		if src == "-" {
			return fscopy.ExtractArchive(in, ctr, dst, owner)
		}
		host, err := fscopy.OpenRoot("/")
		if err != nil {
			return err
		}
		defer host.Close()
		return fscopy.Copy(host, src, ctr, dst, fscopy.Options{FollowLink: o.FollowLink, Owner: owner})
	})
	if err != nil {
		return fmt.Errorf("copying %s to %s:%s: %w", src, name, dst, err)
	}
	return nil
}

// CopyFromContainer copies src of container name, running or not, to
// host path dst (absolute), or as a tar stream to out when dst is "-".
// Without Archive the copy belongs to the user running berth.
func (e *Engine) CopyFromContainer(ctx context.Context, name, src, dst string, out io.Writer, o CopyOptions) error {
	owner := fscopy.Owner{Keep: o.Archive, UID: os.Getuid(), GID: os.Getgid()}
	err := e.runtime.InFilesystem(ctx, name, func(root string) error {
		ctr, err := fscopy.OpenRoot(root)
		if err != nil {
			return err
		}
		defer ctr.Close()
		if dst == "-" {
			return fscopy.WriteArchive(out, ctr, src, o.FollowLink)
		}
		host, err := fscopy.OpenRoot("/")
		if err != nil {
			return err
		}
		defer host.Close()
		return fscopy.Copy(ctr, src, host, dst, fscopy.Options{FollowLink: o.FollowLink, Owner: owner})
	})
	if err != nil {
		return fmt.Errorf("copying %s:%s to %s: %w", name, src, dst, err)
	}
	return nil
}
