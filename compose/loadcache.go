package compose

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/berth-dev/berth/spec"
)

// loadProject loads the compose project the flags and environment name,
// through the project cache under the state root when that exists (a
// command run again on unchanged files skips compose-go's load).
func (g *globals) loadProject(ctx context.Context) (*spec.Project, error) {
	dir, salt := g.projectCache()
	return g.loadProjectCached(ctx, dir, salt)
}

// loadProjectCached is loadProject through the cache in dir (projectCache;
// "" for none).
func (g *globals) loadProjectCached(ctx context.Context, dir, salt string) (*spec.Project, error) {
	if dir == "" {
		return spec.Load(ctx, g.loadOptions())
	}
	return spec.LoadCached(ctx, g.loadOptions(), dir, salt)
}

// projectCache is where loaded projects are cached, <root>/cache/projects,
// and the salt naming this build of berth: its version and its
// executable's identity (a rebuilt binary never reads an older one's
// entries). It returns "" when the state root does not exist yet (berth
// never creates it just for a cache) or the executable cannot be named.
func (g *globals) projectCache() (dir, salt string) {
	if fi, err := os.Stat(g.root); err != nil || !fi.IsDir() {
		return "", ""
	}
	exe, err := os.Executable()
	if err != nil {
		return "", ""
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "", ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", ""
	}
	salt = fmt.Sprintf("%s %s %d %d %d %d", Version, exe, st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano())
	return filepath.Join(g.root, "cache", "projects"), salt
}
