package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/internal/topdir"
	"github.com/berth-dev/berth/lifecycle"
)

// Create prepares container c to be started: its directories and its
// configuration. Nothing runs until Restart starts it.
func (r *Runtime) Create(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := c.Resources.check(host()); err != nil {
		return fmt.Errorf("creating %q: %w", c.ID, err)
	}
	p := r.paths(c.ID)
	if shimAlive(p.dir) {
		return fmt.Errorf("creating %q: %w", c.ID, ErrRunning)
	}
	// upper is the container's "/" (0711, as the roots of images are
	// searchable by every user); the socket and runc state directories
	// are root's alone. Each container's directory, and what is made in
	// it, gets a block group of its own (topdir).
	if err := os.MkdirAll(filepath.Dir(p.dir), 0o711); err != nil {
		return fmt.Errorf("creating %q: %w", c.ID, err)
	}
	topdir.Mark(filepath.Dir(p.dir))
	for _, d := range []string{p.upper, p.work, p.rootfs, filepath.Dir(p.sock), p.stateRoot} {
		mode := os.FileMode(0o711)
		if d == filepath.Dir(p.sock) || d == p.stateRoot {
			mode = 0o700
		}
		if err := os.MkdirAll(d, mode); err != nil {
			return fmt.Errorf("creating %q: %w", c.ID, err)
		}
	}
	if err := writeJSONAtomic(p.config, c); err != nil {
		return fmt.Errorf("creating %q: %w", c.ID, err)
	}
	return nil
}

// Start creates container c and runs it: it spawns its detached shim and
// returns once the container is running or with the reason it is not. A
// container directory left from an earlier run is reused (its upper layer
// and log persist, as with docker start).
func (r *Runtime) Start(ctx context.Context, c Config) error {
	if err := r.Create(c); err != nil {
		return err
	}
	return r.run(ctx, c.ID, func() (Config, error) { return c, nil })
}

// Prepare makes container c, which this process has just made with
// Create(c), ready to start at once: its shim, or the starter where the
// start would go through it (see useStarter), makes the container up to
// its process (runc create: the init's namespaces, cgroups, mounts and
// seccomp filter), which waits there, and holds it, answering its control
// socket. Restart then only runs the process (runc start); until then the
// container is created, and Release, Stop or Remove undo the preparation.
// It returns once the preparation is asked for; prepared waits for it to
// end, and says how it went.
func (r *Runtime) Prepare(ctx context.Context, c Config) (prepared func() error, err error) {
	return r.launch(ctx, c.ID, c, true)
}

// Release undoes the Prepare of container id when it was not started:
// its held init is killed and its shim gone. It does nothing to a
// container that runs or has no shim.
func (r *Runtime) Release(ctx context.Context, id string) error {
	p := r.paths(id)
	if !shimAlive(p.dir) {
		return nil
	}
	resp, err := callShim(ctx, p.sock, shimRequest{Op: "release"})
	if err != nil {
		return fmt.Errorf("releasing %q: %w", id, err)
	}
	if resp.State != nil && resp.State.Status != lifecycle.Created {
		return nil // it was started: its shim stays
	}
	return r.waitShim(ctx, id)
}

// run starts container id, which was created with the configuration
// config returns: the shim that holds it prepared (see Prepare) runs it,
// else a new shim, and only then is config called.
func (r *Runtime) run(ctx context.Context, id string, config func() (Config, error)) error {
	if p := r.paths(id); shimAlive(p.dir) && !r.shimFinishing(ctx, p) {
		if done, err := r.startHeld(ctx, id); done {
			return err // a prepared container's shim has its configuration
		}
	}
	c, err := config()
	if err != nil {
		return err
	}
	started, err := r.launch(ctx, id, c, false)
	if err != nil {
		return err
	}
	if err := started(); err != nil {
		// Another start of it won the lock, and its supervisor runs it:
		// one a berth killed after asking for it made (its starter goes on).
		if p := r.paths(id); shimAlive(p.dir) && !r.shimFinishing(ctx, p) {
			if st, stErr := r.State(ctx, id); stErr == nil && st.Status == lifecycle.Running {
				return nil
			}
		}
		return err
	}
	return nil
}

// launch has container id, created with configuration c, started (with
// hold, prepared) by the starter or a shim of its own; ready waits for
// their report.
func (r *Runtime) launch(ctx context.Context, id string, c Config, hold bool) (ready func() error, err error) {
	p := r.paths(id)
	if shimAlive(p.dir) && !r.shimFinishing(ctx, p) {
		return nil, fmt.Errorf("starting %q: %w", id, ErrRunning)
	}
	// The run root may have been emptied since the creation (a reboot):
	// its socket and runc state directories, root's alone, as Create makes them.
	for _, d := range []string{filepath.Dir(p.sock), p.stateRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("starting %q: %w", id, err)
		}
	}
	// Each run's libcontainer state directory (made by the shim), and
	// its state file and exec fifo, get a block group of their own where
	// the run root is on disk (ext4 without a journal scans past every
	// inode deleted nearby in the last seconds: a down's).
	topdir.Mark(p.stateRoot)
	if err := r.clearOrphan(id); err != nil {
		return nil, fmt.Errorf("starting %q: %w", id, err)
	}
	for _, f := range []string{p.exit, p.state} { // what the previous run left
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("starting %q: %w", id, err)
		}
	}
	// A shareable container's /dev/shm is mounted on the host, where the
	// shims of those joining it find it, before its shim copies the mounts.
	if ownsShm(c) {
		if err := mountShm(p.shm, c.Security.ShmSize); err != nil {
			return nil, fmt.Errorf("starting %q: %w", id, err)
		}
	}
	// The grace period the init's move into its cgroups would wait for
	// runs while the shim starts.
	primeAttach()
	end := phase.Start(id, "start.shim")
	var reported func() error
	if r.useStarter(c) {
		reported, err = r.startVia(ctx, id, hold)
	} else {
		reported, err = r.spawnShim(ctx, id, hold)
	}
	if err != nil {
		end()
		return nil, fmt.Errorf("starting %q: %w", id, err)
	}
	return func() error {
		err := reported()
		end()
		if err != nil {
			return fmt.Errorf("starting %q: %w", id, err)
		}
		return nil
	}, nil
}

// Config returns the configuration container id was last started with.
func (r *Runtime) Config(id string) (Config, error) {
	var c Config
	if err := readJSON(r.paths(id).config, &c); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return c, fmt.Errorf("container %q: %w", id, ErrNotFound)
		}
		return c, fmt.Errorf("container %q: %w", id, err)
	}
	return c, nil
}

// Restart starts a created or exited container from its configuration,
// keeping its writable layer, as `docker start` does.
func (r *Runtime) Restart(ctx context.Context, id string) error {
	return r.run(ctx, id, func() (Config, error) { return r.Config(id) })
}

// heldAnswerWait bounds how long a start waits for the socket of a shim
// that is still preparing its container (spawned by another process that
// has not seen it ready: a berth killed meanwhile).
const heldAnswerWait = 30 * time.Second

// startHeld asks the live shim of container id to start it (see Prepare),
// waiting for its socket while the shim sets up. done says the shim
// answered: started (nil), already running (ErrRunning), or failed to
// start it; not done, the shim ended without answering.
func (r *Runtime) startHeld(ctx context.Context, id string) (done bool, err error) {
	p := r.paths(id)
	defer phase.Start(id, "start.held")()
	deadline := time.Now().Add(heldAnswerWait)
	for {
		resp, err := callShim(ctx, p.sock, shimRequest{Op: "start"})
		switch {
		case err == nil:
			return true, nil
		case resp.State != nil && resp.State.Status != lifecycle.Created:
			return true, fmt.Errorf("starting %q: %w", id, ErrRunning)
		case !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED):
			return true, fmt.Errorf("starting %q: %w", id, err)
		case !shimAlive(p.dir):
			return false, nil
		case time.Now().After(deadline):
			return true, fmt.Errorf("starting %q: its shim does not answer: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return true, fmt.Errorf("starting %q: %w", id, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// shimFinishing reports whether the live shim of p published that its
// container is down for good and has gone within a moment: it was only
// recording the exit and unmounting (an `up` right after a container
// died sees it exited before its shim is gone).
func (r *Runtime) shimFinishing(ctx context.Context, p paths) bool {
	st, ok := readPublished(p.state)
	return ok && st.Status == lifecycle.Exited && !shimLingers(ctx, p.dir)
}

// shimLingers reports whether a shim that did not answer is still there
// after a moment: one that is shutting down (its socket already gone) only
// needs the time to finish.
func shimLingers(ctx context.Context, dir string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return waitUnlocked(ctx, dir) != nil
}

// clearOrphan removes libcontainer state left by a dead shim, refusing
// when that container's init still runs.
func (r *Runtime) clearOrphan(id string) error {
	o, err := loadOrphan(r.paths(id).stateRoot, id)
	if err != nil || o == nil {
		return removeStaleState(r.paths(id).stateRoot, id, err)
	}
	if run, _, _ := o.running(); run {
		return fmt.Errorf("init of a container without shim: %w", ErrRunning)
	}
	return o.ctr.Destroy()
}

// spawnShim starts the shim of id detached (own session, own mount
// namespace, stdio to shim.log); reported waits for its ready message.
func (r *Runtime) spawnShim(ctx context.Context, id string, hold bool) (reported func() error, err error) {
	p := r.paths(id)
	logf, err := openShimLog(p.shimLog)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating shim pipe: %w", err)
	}
	// The namespace the shim goes back to once its container runs (see
	// shimmounts_linux.go): its descriptor is the shim's fd 4. It is this
	// thread's, which the shim's own is copied from at the fork below:
	// the process's (its main thread's) may be a private one another
	// goroutine left the main thread in (Go parks the main thread, where
	// it ends others).
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	hostNS, err := os.Open("/proc/thread-self/ns/mnt")
	if err != nil {
		rd.Close()
		wr.Close()
		return nil, fmt.Errorf("spawning shim: %w", err)
	}
	defer hostNS.Close()
	args := shimArgs{ID: id, Root: r.root, RunRoot: r.runRoot, CgroupParent: r.cgroupParent, Hold: hold}
	cmd := &exec.Cmd{
		Path:       r.shimCmd[0],
		Args:       append(append([]string{"berth"}, r.shimCmd[1:]...), args.argv()...),
		Dir:        "/", // hold no reference to the caller's working directory
		Env:        append(append(os.Environ(), shimGoEnv...), hostMountNSEnv+"=4"),
		Stdout:     logf,
		Stderr:     logf,
		ExtraFiles: []*os.File{wr, hostNS},
		SysProcAttr: &syscall.SysProcAttr{
			Setsid: true,
			// A private mount namespace: the rootfs overlay never shows
			// on the host and cannot leak when the shim dies. The shim
			// leaves it once its container runs (shimmounts_linux.go).
			Unshareflags: syscall.CLONE_NEWNS,
		},
	}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		rd.Close()
		return nil, fmt.Errorf("spawning shim: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // reap it whenever it ends; it outlives us otherwise

	msg := make(chan readyMsg, 1)
	go func() {
		defer rd.Close()
		var m readyMsg
		data, _ := io.ReadAll(rd)
		if len(bytes.TrimSpace(data)) == 0 {
			m.Error = "shim exited before reporting: " + tail(p.shimLog, 2048)
		} else if err := json.Unmarshal(data, &m); err != nil {
			m.Error = fmt.Sprintf("bad shim report %q: %v", data, err)
		}
		msg <- m
	}()
	return func() error {
		select {
		case m := <-msg:
			if m.Error != "" {
				// A shim that failed is on its way out: let it finish its
				// cleanup, so that whoever acts next finds it gone rather
				// than half-there (its lock held, its socket removed).
				select {
				case <-exited:
				case <-ctx.Done():
				}
				return errors.New(m.Error)
			}
			return nil
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return ctx.Err()
		}
	}, nil
}

// tail returns the last n bytes of a file, for error messages.
func tail(name string, n int64) string {
	data, err := os.ReadFile(name)
	if err != nil {
		return err.Error()
	}
	if int64(len(data)) > n {
		data = data[int64(len(data))-n:]
	}
	return string(bytes.TrimSpace(data))
}

// Stop stops container id: its stop signal, then SIGKILL after timeout
// (negative: the container's StopTimeout; 0: at once). It returns once the
// container has exited and its shim is gone. A stopped container is not
// an error. Without a live shim it stops the container through libcontainer.
func (r *Runtime) Stop(ctx context.Context, id string, timeout time.Duration) error {
	shim, err := r.halt(ctx, id, timeout, false)
	if err != nil || !shim {
		return err
	}
	defer phase.Start(id, "stop.wait-shim")()
	return r.waitShim(ctx, id)
}

// Halt is Stop without the wait for the shim's exit: it returns once the
// container is down for good, its processes gone and its exit and events
// recorded, while its shim may still be winding down (unmounting its root
// filesystem, which waits for the filesystem under it to be synced).
// Remove and Stop wait for that; whatever needs neither the
// shim nor the container's directory can go on at once.
// The shim leaves the root filesystem to the end of its mount namespace
// (see shimRequest.Discard): Halt is for a container removed next.
func (r *Runtime) Halt(ctx context.Context, id string, timeout time.Duration) error {
	_, err := r.halt(ctx, id, timeout, true)
	return err
}

// halt stops container id (see Halt); shim says whether a shim stopped
// it, which may still be exiting. discard: it is removed next.
func (r *Runtime) halt(ctx context.Context, id string, timeout time.Duration, discard bool) (shim bool, err error) {
	p := r.paths(id)
	if _, err := os.Stat(p.dir); err != nil {
		return false, fmt.Errorf("stopping %q: %w", id, ErrNotFound)
	}
	if shimAlive(p.dir) {
		req := shimRequest{Op: "stop", TimeoutMS: timeout.Milliseconds(), Discard: discard} // negative: the shim's default
		end := phase.Start(id, "stop.call")
		_, err := callShim(ctx, p.sock, req)
		end()
		if err != nil && shimLingers(ctx, p.dir) {
			return false, fmt.Errorf("stopping %q: %w", id, err)
		}
		return true, nil
	}
	var c Config
	// Without a whole config (a creation or removal cut short) the
	// defaults stop it.
	if err := readJSON(p.config, &c); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errTorn) {
		return false, fmt.Errorf("stopping %q: reading config: %w", id, err)
	}
	if timeout < 0 {
		timeout = c.stopTimeout()
	}
	sig, _ := ParseSignal(c.stopSignal())
	return false, r.stopOrphan(ctx, id, sig, timeout)
}

// stopOrphan stops and destroys a container whose shim is gone.
func (r *Runtime) stopOrphan(ctx context.Context, id string, sig syscall.Signal, timeout time.Duration) error {
	o, err := loadOrphan(r.paths(id).stateRoot, id)
	if err != nil || o == nil {
		return removeStaleState(r.paths(id).stateRoot, id, err)
	}
	if err := o.stop(ctx, sig, timeout); err != nil {
		return fmt.Errorf("stopping %q: %w", id, err)
	}
	return nil
}

// waitShim waits until the shim of id has exited.
func (r *Runtime) waitShim(ctx context.Context, id string) error {
	if err := waitUnlocked(ctx, r.paths(id).dir); err != nil {
		return fmt.Errorf("waiting for shim of %q: %w", id, err)
	}
	return nil
}

// Kill sends sig to the init of container id. As with docker kill,
// SIGKILL, the container's stop signal, or any signal when it names none
// is an explicit stop (the restart policy no longer applies, a paused
// container is thawed), and with SIGKILL Kill returns once the container
// is down.
func (r *Runtime) Kill(ctx context.Context, id string, sig syscall.Signal) error {
	p := r.paths(id)
	if _, err := os.Stat(p.dir); err != nil {
		return fmt.Errorf("killing %q: %w", id, ErrNotFound)
	}
	if shimAlive(p.dir) {
		if _, err := callShim(ctx, p.sock, shimRequest{Op: "kill", Signal: int(sig)}); err != nil {
			return fmt.Errorf("killing %q: %w", id, err)
		}
		if sig == syscall.SIGKILL {
			return r.waitShim(ctx, id)
		}
		return nil
	}
	o, err := loadOrphan(p.stateRoot, id)
	if err != nil {
		return fmt.Errorf("killing %q: %w", id, err)
	}
	if o == nil {
		return fmt.Errorf("killing %q: %w", id, ErrNotRunning)
	}
	if run, _, _ := o.running(); !run {
		return fmt.Errorf("killing %q: %w", id, ErrNotRunning)
	}
	if err := o.ctr.Signal(sig); err != nil {
		return fmt.Errorf("killing %q: %w", id, err)
	}
	return nil
}

// Remove kills container id if it runs, waits for its shim to exit,
// destroys its libcontainer state and removes its directory. Removing a
// missing container is not an error.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	p := r.paths(id)
	if shimAlive(p.dir) {
		_, err := callShim(ctx, p.sock, shimRequest{Op: "stop", Signal: int(syscall.SIGKILL), Discard: true})
		if err != nil && shimLingers(ctx, p.dir) {
			return fmt.Errorf("removing %q: %w", id, err)
		}
		end := phase.Start(id, "rm.wait-shim")
		err = r.waitShim(ctx, id)
		end()
		if err != nil {
			return fmt.Errorf("removing %q: %w", id, err)
		}
	}
	// Also when the directory is gone: libcontainer state may be left.
	end := phase.Start(id, "rm.orphan")
	err := r.stopOrphan(ctx, id, syscall.SIGKILL, 0)
	end()
	if err != nil {
		return fmt.Errorf("removing %q: %w", id, err)
	}
	defer phase.Start(id, "rm.dir")()
	// The rootfs is mounted in the shim's and the container's namespaces
	// only; this undoes a mount someone made on the host by hand.
	if err := unmountAll(p.rootfs); err != nil {
		return fmt.Errorf("removing %q: %w", id, err)
	}
	if err := unmountShm(p.shm); err != nil {
		return fmt.Errorf("removing %q: %w", id, err)
	}
	for _, f := range []string{p.sock, p.state} {
		if err := os.RemoveAll(f); err != nil {
			return fmt.Errorf("removing %q: %w", id, err)
		}
	}
	if err := removeDirAtomic(p.dir); err != nil {
		return fmt.Errorf("removing %q: %w", id, err)
	}
	return nil
}

// State reports what container id is doing, from its shim when it lives
// (the state it publishes, or its answer while it has published none),
// else from exit.json and libcontainer: a container whose shim was killed
// is still reported running while its init lives.
func (r *Runtime) State(ctx context.Context, id string) (State, error) {
	p := r.paths(id)
	alive, err := probeLock(p.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Status: lifecycle.Missing}, nil
	}
	if alive {
		if st, ok := readPublished(p.state); ok {
			return st, nil
		}
		resp, err := callShim(ctx, p.sock, shimRequest{Op: "state"})
		if err == nil && resp.State != nil {
			return *resp.State, nil
		}
		if shimAlive(p.dir) {
			// Starting up (socket not yet there) or shutting down.
			return State{Status: lifecycle.Created, Shim: true}, nil
		}
	}
	// A directory without a whole config.json is a creation or a removal
	// cut short: gone, for whoever plans; removing it again repairs it.
	var cfg Config
	if err := readJSON(p.config, &cfg); errors.Is(err, os.ErrNotExist) || errors.Is(err, errTorn) {
		return State{Status: lifecycle.Missing}, nil
	} else if err != nil {
		return State{}, fmt.Errorf("state of %q: %w", id, err)
	}
	st := State{Status: lifecycle.Created}
	var rec exitRecord
	switch err := readJSON(p.exit, &rec); {
	case err == nil:
		st = State{Status: lifecycle.Exited, ExitCode: rec.Code, StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt, Restarts: rec.Restarts, OOMKilled: rec.OOMKilled, Stopped: rec.Stopped}
	case errors.Is(err, errTorn):
		st = State{Status: lifecycle.Exited, ExitCode: -1} // an exit nobody can read any more; the next start replaces the file
	case !errors.Is(err, os.ErrNotExist):
		return State{}, fmt.Errorf("state of %q: %w", id, err)
	}
	o, err := loadOrphan(p.stateRoot, id)
	if err != nil {
		return State{}, fmt.Errorf("state of %q: %w", id, err)
	}
	if o != nil {
		if run, pid, started := o.running(); run {
			status := lifecycle.Running
			if o.paused() {
				status = lifecycle.Paused
			}
			return State{Status: status, Pid: pid, StartedAt: started, Restarts: st.Restarts}, nil
		}
		if st.Status != lifecycle.Exited {
			// It ran and ended with nobody to see its exit status.
			st = State{Status: lifecycle.Exited, ExitCode: -1}
		}
	}
	return st, nil
}
