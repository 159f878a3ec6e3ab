package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// starterEnv, "0", turns the starter off: every container gets a shim
// of its own for its start, as before the starter.
const starterEnv = "BERTH_STARTER"

// starterClient is a Runtime's side of its starter (see
// starter_linux.go): spawned ahead of the first start that can use it
// (WarmStarter) or at that start, asked for each such start, closed by
// Runtime.Close (or this process's end) or once idle (starterLinger); a
// starter closed so ends once the containers it holds (see Prepare) are
// started or released.
type starterClient struct {
	mu     sync.Mutex
	cur    *starterConn // nil: none to ask
	linger *time.Timer  // ends an idle starter (see starterLinger), nil: none set
}

// starterLinger is how long a starter with nothing to start is kept for
// the next start: a long-lived caller (reconcile --watch) does not keep a
// Go process resident between its rounds (but while it holds a prepared
// container).
const starterLinger = 2 * time.Second

// starterConn is the channel to one starter.
type starterConn struct {
	conn    net.Conn
	enc     *json.Encoder                // under starterClient.mu
	waiting map[string]chan starterReply // by container id, under starterClient.mu
	log     string                       // the starter's log, for its errors
}

// useStarter reports whether the start or preparation of a container
// with configuration c goes through the starter: it is on, the kernel
// gives exit statuses through pidfds, berth-idle is at hand, the shim
// command is a binary's "shim", and the container needs nothing berth-idle
// does not serve from birth (a terminal, an open stdin, the output so far
// kept for a client attaching: Replayed).
func (r *Runtime) useStarter(c Config) bool {
	return os.Getenv(starterEnv) != "0" && !c.Tty && !c.OpenStdin && !c.Replayed &&
		len(r.shimCmd) == 2 && r.shimCmd[1] == "shim" &&
		os.Getenv(idleEnv) != "off" && os.Getenv(noReexecEnv) == "" &&
		exitInfoSupported() && idleBinaryBeside(r.runtimeBinary()) != ""
}

// runtimeBinary is the program the shim command runs, resolved when it is
// this process's own ("" when that cannot be).
func (r *Runtime) runtimeBinary() string {
	if r.shimCmd[0] != "/proc/self/exe" {
		return r.shimCmd[0]
	}
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	return self
}

// WarmStarter spawns the starter, in the background, ahead of the start
// (or preparation) of a container with configuration c, when that will go
// through it and none runs: the starter's process starts while the
// container is made, not at its start (a recreate's start waited for it).
// One asked nothing ends starterLinger after. It reports whether such a
// start goes through the starter.
func (r *Runtime) WarmStarter(c Config) bool {
	if !r.useStarter(c) {
		return false
	}
	go func() {
		sc := r.starter
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if sc.cur != nil {
			return
		}
		cur, err := r.spawnStarter()
		if err != nil {
			return // the start spawns one again, and reports what fails
		}
		sc.cur = cur
		sc.armLinger(cur)
	}()
	return true
}

// startVia has the starter start container id, or with hold prepare it;
// reported waits for its reply.
func (r *Runtime) startVia(ctx context.Context, id string, hold bool) (reported func() error, err error) {
	c := r.starter
	c.mu.Lock()
	if c.linger != nil {
		c.linger.Stop()
		c.linger = nil
	}
	if c.cur == nil {
		if c.cur, err = r.spawnStarter(); err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("spawning the starter: %w", err)
		}
	}
	sc := c.cur
	reply := make(chan starterReply, 1)
	sc.waiting[id] = reply
	if err = sc.enc.Encode(starterRequest{ID: id, Hold: hold}); err != nil {
		delete(sc.waiting, id)
	}
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("asking the starter: %w", err)
	}
	return func() error {
		select {
		case m := <-reply:
			if m.Error != "" {
				return errors.New(m.Error)
			}
			return nil
		case <-ctx.Done():
			if hold {
				// Prepared all the same, it would stay held: released
				// once its preparation is reported, as a shim's would be
				// killed.
				go func() {
					if m := <-reply; m.Error == "" {
						_ = r.Release(context.WithoutCancel(ctx), id)
					}
				}()
			}
			return ctx.Err() // a start goes on; its supervisor sees to the rest
		}
	}, nil
}

// spawnStarter spawns the starter under its reaper (berth-idle --reap),
// detached (its own session, stdio to starter.log), with a socket to
// talk over; the caller holds the client's mu.
func (r *Runtime) spawnStarter() (*starterConn, error) {
	self := r.runtimeBinary() // not /proc/self/exe: the reaper's would be berth-idle
	if self == "" {
		return nil, errors.New("cannot find this program's binary")
	}
	sc := &starterConn{log: filepath.Join(r.runRoot, "starter.log"), waiting: map[string]chan starterReply{}}
	if err := os.MkdirAll(r.runRoot, 0o700); err != nil {
		return nil, err
	}
	logf, err := openShimLog(sc.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "starter"), os.NewFile(uintptr(fds[1]), "starter-child")
	defer theirs.Close()
	conn, err := net.FileConn(ours) // a duplicate
	ours.Close()
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:        idleBinaryBeside(self),
		Args:        []string{"berth", "--reap", self, "berth", starterArg, r.root, r.runRoot, r.cgroupParent},
		Dir:         "/", // hold no reference to the caller's working directory
		Env:         append(os.Environ(), shimGoEnv...),
		Stdout:      logf,
		Stderr:      logf,
		ExtraFiles:  []*os.File{theirs},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, err
	}
	go func() { _ = cmd.Wait() }() // the reaper outlives us, or we reap it
	sc.conn, sc.enc = conn, json.NewEncoder(conn)
	go r.starter.read(sc)
	return sc, nil
}

// read routes the replies of the starter of sc to their waiters; at its
// end, every waiter left gets an error, and the next start spawns a
// starter anew.
func (c *starterClient) read(sc *starterConn) {
	dec := json.NewDecoder(sc.conn)
	for {
		var m starterReply
		if err := dec.Decode(&m); err != nil {
			break
		}
		c.mu.Lock()
		if w := sc.waiting[m.ID]; w != nil {
			delete(sc.waiting, m.ID)
			w <- m
		}
		if len(sc.waiting) == 0 && c.cur == sc {
			c.armLinger(sc)
		}
		c.mu.Unlock()
	}
	sc.conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == sc {
		c.cur = nil
	}
	for id, w := range sc.waiting {
		w <- starterReply{ID: id, Error: "the starter exited before answering: " + tail(sc.log, 2048)}
	}
	sc.waiting = nil
}

// Close lets the runtime's starter, if any, end once it has answered
// every start asked; a later start spawns another.
func (r *Runtime) Close() error {
	c := r.starter
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.end()
}

// armLinger has the starter of sc end starterLinger from now unless a
// start is asked meanwhile (startVia stops it); the caller holds c.mu.
func (c *starterClient) armLinger(sc *starterConn) {
	if c.linger == nil {
		c.linger = time.AfterFunc(starterLinger, func() { c.endIdle(sc) })
	}
}

// endIdle ends the starter of sc when it is still the current one and
// has nothing to answer.
func (c *starterClient) endIdle(sc *starterConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == sc && len(sc.waiting) == 0 {
		_ = c.end()
	}
}

// end lets the current starter end; the caller holds c.mu.
func (c *starterClient) end() error {
	if c.linger != nil {
		c.linger.Stop()
		c.linger = nil
	}
	sc := c.cur
	if sc == nil {
		return nil
	}
	c.cur = nil
	// Half closed: the starter reads its end; its replies still come.
	if uc, ok := sc.conn.(*net.UnixConn); ok {
		return uc.CloseWrite()
	}
	return sc.conn.Close()
}
