package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// watchExtension names the service extension listing the paths (relative
// to the project directory) whose read-only bind mounts are configuration.
const watchExtension = "x-berth-watch"

// WatchedBind is a read-only bind mount of a service declared as
// configuration (x-berth-watch or develop.watch): a change of its content
// restarts the service's containers.
type WatchedBind struct {
	Key    string // "bind ./conf": the source, relative to the project directory when inside it
	Source string // absolute host path
	Digest string // of names, modes and contents under Source at load (WatchDigest)
}

// watchedBinds returns the read-only bind mounts of svc that its
// develop.watch paths or its x-berth-watch extension name: a bind whose
// source is, holds or lies under a named path. Their digests are left to
// digestWatched.
func watchedBinds(cs types.ServiceConfig, svc Service, projectDir string, ps *problems) []WatchedBind {
	var paths []string
	if cs.Develop != nil {
		for _, t := range cs.Develop.Watch {
			paths = append(paths, absIn(projectDir, t.Path))
		}
	}
	if v, ok := cs.Extensions[watchExtension]; ok {
		list, ok := v.([]any)
		if !ok {
			ps.invalid(watchExtension+" must be a list of paths", "services", cs.Name, watchExtension)
		}
		for _, e := range list {
			s, ok := e.(string)
			if !ok || s == "" {
				ps.invalid(fmt.Sprintf("%s: %v is not a path", watchExtension, e), "services", cs.Name, watchExtension)
				continue
			}
			paths = append(paths, absIn(projectDir, s))
		}
	}
	var out []WatchedBind
	for _, m := range svc.Mounts {
		if m.Type != MountBind || !m.ReadOnly || !slices.ContainsFunc(paths, func(p string) bool { return within(m.Source, p) || within(p, m.Source) }) {
			continue
		}
		key := "bind " + m.Source
		if rel, err := filepath.Rel(projectDir, m.Source); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			key = "bind ./" + filepath.ToSlash(rel)
		}
		if !slices.ContainsFunc(out, func(w WatchedBind) bool { return w.Key == key }) {
			out = append(out, WatchedBind{Key: key, Source: m.Source})
		}
	}
	return out
}

// within reports whether path p is dir or lies under it.
func within(p, dir string) bool {
	p, dir = filepath.Clean(p), filepath.Clean(dir)
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// digestWatched digests the content of every watched bind of p now (at
// load, and again when the project comes from the cache).
func (p *Project) digestWatched() {
	for _, ws := range p.Watched {
		for i := range ws {
			ws[i].Digest = WatchDigest(ws[i].Source)
		}
	}
}

// WatchDigest is the hex SHA-256 of what lies under path: each entry's
// name relative to path, its mode and the content of a file or the target
// of a symbolic link, in lexical order; not times or owners. "" when path
// cannot be read.
func WatchDigest(path string) string {
	h := sha256.New()
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		fmt.Fprintf(h, "%q %o\n", rel, uint32(info.Mode()))
		switch {
		case info.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
			fmt.Fprintf(h, "\n%d\n", info.Size())
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "-> %q\n", target)
		}
		return nil
	})
	if err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
