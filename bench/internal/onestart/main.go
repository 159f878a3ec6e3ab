// Command onestart is bench/compare.sh's floor for one process starting
// many containers: it starts N containers of one runc bundle through
// libcontainer (berth's version of it), each as `runc run -d` does
// (create, then start, detached), all from this one process, and exits,
// leaving them running. Against N `runc run -d` of the same libcontainer,
// the difference is what a process per start costs (the Go runtime's
// start, its page faults and its monitor thread, the exit), which berth
// pays once per container in its shim.
//
// Usage: onestart ROOT BUNDLE N PREFIX   (containers PREFIX1..PREFIXN)
//
//	onestart ROOT delete             (kills and removes every container of ROOT)
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	_ "github.com/opencontainers/cgroups/devices" // the device allow-list, as runc links it
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init() // never returns
	}
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[2] == "delete":
		err = deleteAll(os.Args[1])
	case len(os.Args) == 5:
		var n int
		if n, err = strconv.Atoi(os.Args[3]); err == nil {
			err = startAll(os.Args[1], os.Args[2], n, os.Args[4])
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: onestart ROOT BUNDLE N PREFIX | onestart ROOT delete")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "onestart:", err)
		os.Exit(1)
	}
}

// startAll starts n containers of bundle under root, one after the other.
func startAll(root, bundle string, n int, prefix string) error {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return err
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return err
	}
	if !filepath.IsAbs(spec.Root.Path) {
		spec.Root.Path = filepath.Join(bundle, spec.Root.Path)
	}
	if err := os.Chdir(bundle); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if err := start(root, prefix+strconv.Itoa(i), &spec); err != nil {
			return err
		}
	}
	return nil
}

// start is `runc run -d` of spec as id, without a terminal.
func start(root, id string, spec *specs.Spec) error {
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: id, Spec: spec})
	if err != nil {
		return err
	}
	c, err := libcontainer.Create(root, id, config)
	if err != nil {
		return err
	}
	p := spec.Process
	proc := &libcontainer.Process{
		Args: p.Args, Env: p.Env, Cwd: p.Cwd,
		UID: int(p.User.UID), GID: int(p.User.GID),
		NoNewPrivileges: &p.NoNewPrivileges,
		Init:            true,
	}
	if caps := p.Capabilities; caps != nil {
		proc.Capabilities = &configs.Capabilities{Bounding: caps.Bounding, Effective: caps.Effective,
			Inheritable: caps.Inheritable, Permitted: caps.Permitted, Ambient: caps.Ambient}
	}
	for _, rl := range p.Rlimits {
		t, ok := rlimits[rl.Type]
		if !ok {
			return fmt.Errorf("rlimit %s: unknown", rl.Type)
		}
		proc.Rlimits = append(proc.Rlimits, configs.Rlimit{Type: t, Hard: rl.Hard, Soft: rl.Soft})
	}
	if err := c.Run(proc); err != nil {
		_ = c.Destroy()
		return fmt.Errorf("%s: %w", id, err)
	}
	return nil
}

// rlimits maps the spec's rlimit names that runc's default spec uses.
var rlimits = map[string]int{"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC}

// deleteAll is `runc delete -f` of every container under root.
func deleteAll(root string) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	var errs []error
	for _, e := range ents {
		c, err := libcontainer.Load(root, e.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_ = c.Signal(unix.SIGKILL)
		// As runc delete -f: the container's process is gone before
		// its removal.
		for i := 0; i < 1000; i++ {
			if st, err := c.Status(); err != nil || st == libcontainer.Stopped {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		errs = append(errs, c.Destroy())
	}
	return errors.Join(errs...)
}
