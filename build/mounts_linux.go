package build

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/sys/unix"

	berthrt "github.com/berth-dev/berth/runtime"
)

// runMounts turns a RUN's --mount flags into the container's mounts:
// type=cache is a directory of the build cache kept between builds (by
// id, default the target), type=secret a build secret's file bind-mounted
// read-only (default at /run/secrets/<id>), type=tmpfs a fresh tmpfs.
// Other types (bind, ssh) are not supported yet. The mount points the
// runtime makes for them are not part of the step's layer (removeStubs).
func (b *builder) runMounts(c *instructions.RunCommand) ([]berthrt.Mount, error) {
	var mounts []berthrt.Mount
	for _, m := range instructions.GetMounts(c) {
		switch m.Type {
		case instructions.MountTypeCache:
			if m.From != "" || m.CacheSharing == instructions.MountSharingPrivate {
				return nil, fmt.Errorf("RUN --mount=type=cache with from= or sharing=private: %w", ErrUnsupported)
			}
			dir, err := b.cacheMountDir(m)
			if err != nil {
				return nil, err
			}
			mounts = append(mounts, berthrt.Mount{Type: "bind", Source: dir, Target: m.Target, ReadOnly: m.ReadOnly})
		case instructions.MountTypeSecret:
			id := m.CacheID
			if id == "" {
				id = path.Base(m.Target)
			}
			target := m.Target
			if target == "" {
				target = "/run/secrets/" + id
			}
			if m.Env != nil {
				return nil, fmt.Errorf("RUN --mount=type=secret,env=: %w", ErrUnsupported)
			}
			src, ok := b.o.Secrets[id]
			if !ok {
				if m.Required {
					return nil, fmt.Errorf("secret %s: %w", id, ErrNoSecret)
				}
				continue
			}
			abs, err := filepath.Abs(src)
			if err != nil {
				return nil, fmt.Errorf("secret %s: %w", id, err)
			}
			if fi, err := os.Stat(abs); err != nil || !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("secret %s: %s is not a readable file", id, src)
			}
			mounts = append(mounts, berthrt.Mount{Type: "bind", Source: abs, Target: target, ReadOnly: true})
		case instructions.MountTypeTmpfs:
			opts := []string{}
			if m.SizeLimit > 0 {
				opts = append(opts, fmt.Sprintf("size=%d", m.SizeLimit))
			}
			mounts = append(mounts, berthrt.Mount{Type: "tmpfs", Target: m.Target, Options: opts})
		default:
			return nil, fmt.Errorf("RUN --mount=type=%s: %w", m.Type, ErrUnsupported)
		}
	}
	return mounts, nil
}

// cacheMountDir is the persistent directory of a cache mount, made with
// the mount's mode and owner the first time.
func (b *builder) cacheMountDir(m *instructions.Mount) (string, error) {
	id := m.CacheID
	if id == "" {
		id = m.Target
	}
	sum := sha256.Sum256([]byte(id))
	dir := filepath.Join(b.cache.dir, "mounts", hex.EncodeToString(sum[:16]))
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", fmt.Errorf("creating cache mount %s: %w", id, err)
	}
	mode := fs.FileMode(0o755)
	if m.Mode != nil {
		mode = fs.FileMode(*m.Mode)
	}
	err := os.Mkdir(dir, mode)
	if errors.Is(err, fs.ErrExist) {
		return dir, nil
	}
	if err != nil {
		return "", fmt.Errorf("creating cache mount %s: %w", id, err)
	}
	uid, gid := 0, 0
	if m.UID != nil {
		uid = int(*m.UID)
	}
	if m.GID != nil {
		gid = int(*m.GID)
	}
	if err := errors.Join(os.Chmod(dir, mode), os.Lchown(dir, uid, gid)); err != nil {
		return "", fmt.Errorf("creating cache mount %s: %w", id, err)
	}
	return dir, nil
}

// removeStubs removes from a finished RUN's upper directory the mount
// points the runtime made for its --mount targets: empty files and
// directories not in the layers below, deepest first, up to the first
// parent that is not such a stub.
func removeStubs(upper string, lower []string, targets []string) {
	targets = slices.Clone(targets)
	slices.SortFunc(targets, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, t := range targets {
		for rel := strings.Trim(path.Clean(t), "/"); rel != "" && rel != "."; rel = path.Dir(rel) {
			p := filepath.Join(upper, rel)
			var st unix.Stat_t
			if unix.Lstat(p, &st) != nil || inLayers(lower, rel) {
				break
			}
			empty := (st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0) || (st.Mode&unix.S_IFMT == unix.S_IFDIR && emptyDir(p))
			if !empty || os.Remove(p) != nil {
				break
			}
		}
	}
}
