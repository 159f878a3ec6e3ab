package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/berth-dev/berth/internal/atomicfile"
)

var (
	// ErrNotFound is returned for a volume that does not exist.
	ErrNotFound = errors.New("no such volume")
	// ErrOptionsChanged is returned by CreateWith for an existing volume
	// whose recorded driver options differ from the requested ones.
	ErrOptionsChanged = errors.New("volume exists with other driver options")
)

// metaFile records a volume's options next to its data directory.
const metaFile = "opts.json"

// Info describes a volume, for `volume ls` and `volume inspect`.
type Info struct {
	Name string
	// Mountpoint is the host directory a container bind-mounts: the data
	// directory of a plain volume, the device of a bind volume, and empty
	// for a tmpfs volume (its content lives in each container's tmpfs).
	Mountpoint string
	Options    Options
	CreatedAt  time.Time
}

// Source says how a container mounts a volume: Type "bind" from Path, or
// Type "tmpfs" with Options (tmpfs(5) options such as "size=64m"). ReadOnly
// is set when the volume's o asks for ro; the caller ORs it with the
// mount's own read_only.
type Source struct {
	Type     string
	Path     string
	Options  []string
	ReadOnly bool
}

// meta is the content of opts.json.
type meta struct {
	Options   Options   `json:"options"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateWith makes volume name with driver options o if it is missing and
// returns its Mountpoint (see Info). It is idempotent: an existing volume
// with the same options is left as it is, data included; one with other
// options is refused with ErrOptionsChanged. The options are recorded in
// <root>/volumes/<name>/opts.json, so Source works in later processes.
func (m *Manager) CreateWith(name string, o Options) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	if err := o.Validate(); err != nil {
		return "", fmt.Errorf("volume %q: %w", name, err)
	}
	old, err := m.readMeta(name)
	switch {
	case errors.Is(err, ErrNotFound):
		old = meta{Options: o, CreatedAt: time.Now().UTC().Truncate(time.Second)}
		if err := m.writeMeta(name, old); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	case old.Options != o:
		return "", fmt.Errorf("volume %q has driver_opts %s, not %s (remove it to change them): %w", name, old.Options, o, ErrOptionsChanged)
	}
	// The data directory comes last: it is what Exists looks for, and a
	// crash before it leaves opts.json, which the next CreateWith accepts.
	if err := os.MkdirAll(m.Path(name), 0o755); err != nil {
		return "", fmt.Errorf("creating volume %q: %w", name, err)
	}
	for _, d := range []string{filepath.Join(m.dir, name), m.dir} {
		if err := atomicfile.SyncDir(d); err != nil {
			return "", fmt.Errorf("creating volume %q: %w", name, err)
		}
	}
	return m.info(name, old).Mountpoint, nil
}

// Source returns how a container mounts volume name.
func (m *Manager) Source(name string) (Source, error) {
	md, err := m.readMeta(name)
	if err != nil {
		return Source{}, err
	}
	o := md.Options
	switch o.Type {
	case TypeNone:
		if err := checkDevice(o.Device); err != nil {
			return Source{}, fmt.Errorf("volume %q: driver_opts.device: %v: %w", name, err, ErrInvalidOption)
		}
		return Source{Type: "bind", Path: o.Device, ReadOnly: hasFlag(o.O, "ro")}, nil
	case TypeTmpfs:
		s := Source{Type: "tmpfs"}
		for _, f := range splitOpts(o.O) {
			switch f {
			case "ro":
				s.ReadOnly = true
			case "rw":
			default:
				s.Options = append(s.Options, f)
			}
		}
		return s, nil
	}
	return Source{Type: "bind", Path: m.Path(name)}, nil
}

// Inspect describes volume name; a missing one is ErrNotFound.
func (m *Manager) Inspect(name string) (Info, error) {
	md, err := m.readMeta(name)
	if err != nil {
		return Info{}, err
	}
	return m.info(name, md), nil
}

// List describes every volume, sorted by name.
func (m *Manager) List() ([]Info, error) {
	ents, err := os.ReadDir(m.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	var out []Info
	for _, e := range ents {
		if !e.IsDir() || checkName(e.Name()) != nil {
			continue
		}
		in, err := m.Inspect(e.Name())
		if errors.Is(err, ErrNotFound) {
			continue // a half-created volume
		}
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// IsEmpty reports whether volume name holds no file yet: the condition for
// copy-up. A tmpfs volume is always empty: each container gets a new one.
func (m *Manager) IsEmpty(name string) (bool, error) {
	src, err := m.Source(name)
	if err != nil {
		return false, err
	}
	if src.Type == "tmpfs" {
		return true, nil
	}
	return dirEmpty(src.Path)
}

// Mountpoint is where volume name with options o is (or will be) on the
// host; "" for a tmpfs volume, which is mounted per container.
func (m *Manager) Mountpoint(name string, o Options) string {
	return m.info(name, meta{Options: o}).Mountpoint
}

func (m *Manager) info(name string, md meta) Info {
	in := Info{Name: name, Options: md.Options, CreatedAt: md.CreatedAt}
	switch md.Options.Type {
	case TypeNone:
		in.Mountpoint = md.Options.Device
	case TypeTmpfs:
	default:
		in.Mountpoint = m.Path(name)
	}
	return in
}

// readMeta reads volume name's opts.json. A volume made by Create before
// options existed has only its data directory: it is a plain volume, made
// when that directory was.
func (m *Manager) readMeta(name string) (meta, error) {
	if err := checkName(name); err != nil {
		return meta{}, err
	}
	b, err := os.ReadFile(filepath.Join(m.dir, name, metaFile))
	if errors.Is(err, fs.ErrNotExist) {
		fi, serr := os.Stat(m.Path(name))
		if serr != nil || !fi.IsDir() {
			return meta{}, fmt.Errorf("volume %q: %w", name, ErrNotFound)
		}
		return meta{CreatedAt: fi.ModTime().UTC().Truncate(time.Second)}, nil
	}
	if err != nil {
		return meta{}, fmt.Errorf("reading volume %q options: %w", name, err)
	}
	var md meta
	if err := json.Unmarshal(b, &md); err != nil {
		return meta{}, fmt.Errorf("reading volume %q options: %w", name, err)
	}
	return md, nil
}

func (m *Manager) writeMeta(name string, md meta) error {
	b, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("encoding volume %q options: %w", name, err)
	}
	dir := filepath.Join(m.dir, name)
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return fmt.Errorf("creating volume %q: %w", name, err)
	}
	if err := os.Chmod(m.dir, 0o700); err != nil {
		return fmt.Errorf("securing %s: %w", m.dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating volume %q: %w", name, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, metaFile), b, atomicfile.Mode(0o644), atomicfile.Durable()); err != nil {
		return fmt.Errorf("recording volume %q options: %w", name, err)
	}
	return nil
}

func dirEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, fmt.Errorf("checking volume content: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if len(names) > 0 {
		return false, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("checking volume content %s: %w", dir, err)
	}
	return true, nil
}
