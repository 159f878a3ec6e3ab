package volume

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrInvalidName is returned for a volume name that is not a safe single
// path element.
var ErrInvalidName = errors.New("invalid volume name")

// Manager keeps named volumes as directories under <root>/volumes: the data
// of volume NAME lives in <root>/volumes/NAME/_data, as in Docker.
type Manager struct {
	dir string
}

// New returns the manager of the volumes under root.
//
// The volumes' directory is root's alone (0700): a device node or a
// setuid file a container puts into a volume is no other host user's to
// reach (the CVE-2021-41091 class).
func New(root string) *Manager {
	return &Manager{dir: filepath.Join(root, "volumes")}
}

// Path is where volume name's data lives.
func (m *Manager) Path(name string) string {
	return filepath.Join(m.dir, name, "_data")
}

// Exists reports whether volume name's data directory is present.
func (m *Manager) Exists(name string) bool {
	fi, err := os.Stat(m.Path(name))
	return err == nil && fi.IsDir()
}

// Create makes plain volume name if it is missing and returns its data
// path. It never touches the content of an existing volume; see CreateWith.
func (m *Manager) Create(name string) (string, error) {
	return m.CreateWith(name, Options{})
}

// Remove deletes volume name and all its data. A missing volume is not an
// error.
func (m *Manager) Remove(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(m.dir, name)); err != nil {
		return fmt.Errorf("removing volume %q: %w", name, err)
	}
	return nil
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return nil
}

// PrepareBind checks a bind mount's host path before a container uses it:
// a missing path is created as a directory when create is set (Compose's
// short syntax) and is an error otherwise.
func PrepareBind(source string, create bool) error {
	if !filepath.IsAbs(source) {
		return fmt.Errorf("bind source %q is not an absolute path", source)
	}
	_, err := os.Stat(source)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("checking bind source %q: %w", source, err)
	case !create:
		return fmt.Errorf("bind source path does not exist: %s", source)
	}
	if err := os.MkdirAll(source, 0o755); err != nil {
		return fmt.Errorf("creating bind source %q: %w", source, err)
	}
	return nil
}
