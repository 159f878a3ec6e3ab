package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Runtime runs containers with state under root (persistent) and runRoot
// (volatile). Its methods may be called from many goroutines and many
// processes: all its state is on disk and in the shims.
type Runtime struct {
	root         string
	runRoot      string
	cgroupParent string
	shimCmd      []string
	starter      *starterClient // the starter of this runtime's starts (see useStarter)
}

// Option configures a Runtime.
type Option func(*Runtime)

// WithCgroupParent puts containers' cgroups under name instead of "berth".
func WithCgroupParent(name string) Option {
	return func(r *Runtime) { r.cgroupParent = name }
}

// WithShimCommand sets the command that starts a shim; the runtime appends
// the shim's own arguments. argv[0] is the program run; ps shows "berth".
// The default is /proc/self/exe shim, which needs Reexec in main.
func WithShimCommand(argv ...string) Option {
	return func(r *Runtime) { r.shimCmd = slices.Clone(argv) }
}

// New returns a Runtime keeping container directories under
// root/containers and libcontainer state and shim sockets under runRoot.
// Relative paths are made absolute here: shims run from "/".
func New(root, runRoot string, opts ...Option) *Runtime {
	r := &Runtime{
		root:         absPath(root),
		runRoot:      absPath(runRoot),
		cgroupParent: "berth",
		shimCmd:      []string{"/proc/self/exe", "shim"},
		starter:      &starterClient{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// paths are the files of one container.
type paths struct {
	dir, config, upper, work, rootfs, log, exit, shimLog string
	sock, state, stateRoot                               string // state: what the shim publishes (see publish)
	shmRoot, shm                                         string // shareable containers' /dev/shm, this one's
	seccompCache                                         string // filters compiled once (see package seccache)
}

func (r *Runtime) paths(id string) paths { return containerPaths(r.root, r.runRoot, id) }

func containerPaths(root, runRoot, id string) paths {
	dir := filepath.Join(root, "containers", id)
	return paths{
		dir:       dir,
		config:    filepath.Join(dir, "config.json"),
		upper:     filepath.Join(dir, "upper"),
		work:      filepath.Join(dir, "work"),
		rootfs:    filepath.Join(dir, "rootfs"),
		log:       filepath.Join(dir, id+"-json.log"),
		exit:      filepath.Join(dir, "exit.json"),
		shimLog:   filepath.Join(dir, "shim.log"),
		sock:      filepath.Join(runRoot, "shims", id+".sock"),
		state:     filepath.Join(runRoot, "shims", id+".state"),
		stateRoot: filepath.Join(runRoot, "runc"),
		shmRoot:   filepath.Join(runRoot, "shm"),
		shm:       filepath.Join(runRoot, "shm", id),

		seccompCache: filepath.Join(root, "seccomp"),
	}
}

// UpperDir is the writable layer of container id: what its processes
// changed, with overlayfs's whiteouts for what they removed.
func (r *Runtime) UpperDir(id string) string { return r.paths(id).upper }

// LogPath is the json-file log of container id.
func (r *Runtime) LogPath(id string) string { return r.paths(id).log }

// List returns the ids of all containers that have a directory, sorted.
func (r *Runtime) List() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(r.root, "containers"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), trashPrefix) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// absPath is p made absolute, or p itself in the unlikely case the working
// directory cannot be read.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
