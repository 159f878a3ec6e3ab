package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

// The starter (issue 15: CPU of a cold up). A container started by its
// own shim costs a Go process for the start alone: the runtime's start,
// page faults on a fresh heap, libcontainer's set-up, about half of what
// berth spends per container. The starter is one process, per Runtime,
// that starts many containers, each on a thread of its own in a mount
// namespace of its own (as a restart does: see launchMounted), and gives
// each its supervisor from birth: berth-idle, which keeps the control
// socket, the lock and the log as a shim gone idle does (see
// shimidle_linux.go), and execs the Go shim on anything it cannot do
// itself. The container's init is then the starter's child, not its
// supervisor's: the supervisor watches it through a pidfd and learns its
// exit status through it (see pidfdexit_linux.go) once the starter, or
// after the starter's end the reaper the starter runs under (berth-idle
// --reap, a child subreaper), has reaped it.
//
// The CLI side is starterClient (starterclient_linux.go); it uses the
// starter where the kernel gives exit statuses through pidfds, berth-idle
// is at hand, and the container needs nothing the starter does not do
// (see useStarter).

// starterArg is the starter's entry point (see Reexec).
const starterArg = "starter"

// starterGOGC is the starter's GOGC.
const starterGOGC = 400

// starterRequest asks the starter to start container ID or, with Hold,
// to prepare it: make it up to its process and hold it so until a
// "start" on its control socket (see shim.held), as a held shim does.
type starterRequest struct {
	ID   string `json:"id"`
	Hold bool   `json:"hold,omitempty"`
}

// starterReply answers a starterRequest: the init's pid once the
// container runs or is held, or why it does not.
type starterReply struct {
	ID    string `json:"id"`
	Pid   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
}

// starter is the starter process's set-up.
type starter struct {
	root, runRoot, cgroupParent string
	o                           shimOptions
	idle                        string // berth-idle
	exe                         string // this binary, which supervisors exec for the Go shim
}

// runStarter is the starter process: its arguments are the Runtime's
// root, run root and cgroup parent, its requests come on fd 3 (a unix
// stream socket), and its replies go there. It returns once the other
// end has closed, every start is answered and no container is held any
// more (each held one is started or released through its socket, by
// this client or a later berth); the inits it started are reparented
// then.
func runStarter(args []string, o shimOptions) int {
	if len(args) != 3 {
		fmt.Fprintf(os.Stderr, "starter: want 3 arguments (root run-root cgroup-parent), got %q\n", args)
		return 2
	}
	st := &starter{root: args[0], runRoot: args[1], cgroupParent: args[2], o: o, idle: idleBinary()}
	var err error
	if st.exe, err = os.Executable(); err != nil {
		fmt.Fprintf(os.Stderr, "starter: %v\n", err)
		return 1
	}
	if st.idle == "" {
		fmt.Fprintln(os.Stderr, "starter: no berth-idle")
		return 1
	}
	// The cgroup package opens its handle on the cgroup root once per
	// process, at its first use: in the host's namespace, not in a
	// start's, which goes with its thread and takes its mounts along.
	_, _ = cgroups.ReadFile("/sys/fs/cgroup", "cgroup.procs")
	// Its starts run side by side: a P per CPU (50 starts on 2 CPUs: 869
	// → 758 ms, the CPU the same, against 1). Its environment keeps the
	// shim's GOMAXPROCS=1, which libcontainer passes on to the inits.
	goruntime.GOMAXPROCS(goruntime.NumCPU())
	// A small heap, mostly short-lived: collected a quarter as often.
	debug.SetGCPercent(starterGOGC)
	ch := os.NewFile(3, "starter-channel")
	dec, enc := json.NewDecoder(ch), json.NewEncoder(ch)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for {
		var req starterRequest
		if err := dec.Decode(&req); err != nil {
			break
		}
		wg.Go(func() {
			st.start(req, func(r starterReply) {
				mu.Lock()
				defer mu.Unlock()
				_ = enc.Encode(r)
			})
		})
	}
	wg.Wait()
	return 0
}

// start starts container req.ID, or with req.Hold prepares it and holds
// it until its start (see shim.held), and spawns its supervisor once its
// process runs. reply is called once: when the container runs or is held,
// or with why it does not.
func (st *starter) start(req starterRequest, reply func(starterReply)) {
	id := req.ID
	fail := func(err error) { reply(starterReply{ID: id, Error: err.Error()}) }
	s := &shim{p: containerPaths(st.root, st.runRoot, id), hook: st.o.exitHook, events: st.o.eventHook, root: st.root,
		stopCh: make(chan struct{}), done: make(chan struct{})}
	shimLog, err := openShimLog(s.p.shimLog)
	if err != nil {
		fail(err)
		return
	}
	defer shimLog.Close()
	lock, err := lockDir(s.p.dir)
	if err != nil {
		fail(err)
		return
	}
	defer lock.Close() // the supervisor has its own from here on
	if err := s.loadConfig(); err != nil {
		fail(err)
		return
	}
	l, pidfd, err := s.launchOwnThread(st.cgroupParent, req.Hold)
	if err != nil {
		s.discard.Store(true) // mounted only where the start's thread saw it
		s.teardown()
		fail(err)
		return
	}
	pid, _ := l.proc.Pid()
	if req.Hold {
		reply(starterReply{ID: id, Pid: pid}) // created: its init waits for the start
		if _, ok := s.held(&l); !ok {
			pidfd.Close()
			s.discard.Store(true) // its mounts went with its init
			s.teardown()
			return
		}
		// Its start was answered: a supervisor that cannot be had now
		// is only the log's to say.
		if err := s.supervised(st, l, lock, pidfd, shimLog); err != nil {
			fmt.Fprintf(os.Stderr, "starter: container %s: %v\n", id, err)
		}
		return
	}
	s.event("start", nil) // before the reply: whoever started it sees it recorded
	if err := s.supervised(st, l, lock, pidfd, shimLog); err != nil {
		fail(err)
		return
	}
	reply(starterReply{ID: id, Pid: pid})
}

// supervised publishes the run l, which runs, and hands it to its
// supervisor (see spawnSupervisor): with the directory lock, the init's
// pidfd and the container's shim log. When that fails, the run is ended.
func (s *shim) supervised(st *starter, l launched, lock, pidfd, shimLog *os.File) error {
	pid, _ := l.proc.Pid()
	s.state = State{Status: lifecycle.Running, Pid: pid, StartedAt: l.at}
	if s.cfg.Health != nil {
		s.state.Health = HealthStarting // as the shim publishes it: a wait for health right after the start sees it
	}
	s.lean, s.idle.memDir = l.lean, l.memDir
	s.publish()
	spid, supervisor, err := s.spawnSupervisor(st, l, lock, pidfd, shimLog)
	if err != nil {
		pidfd.Close()
		// Unsupervised, it would run on with no one to log it: it goes.
		s.abandon(l)
		_ = os.Remove(s.p.state)
		s.discard.Store(true)
		s.teardown()
		return fmt.Errorf("spawning the supervisor: %w", err)
	}
	// The supervisor's now: the socket stays, the rest is its copy.
	if ul, err := unixListener(s.ln); err == nil {
		ul.SetUnlinkOnClose(false)
	}
	s.ln.Close()
	s.log.Close()
	l.sio.abort()
	// Reaped here while the starter lives, by the reaper after: either
	// way the supervisor reads the exit through its pidfd.
	go reapChild(pidfd, func() { _, _ = l.proc.Wait() })
	if supervisor != nil {
		go reapChild(supervisor, func() {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(spid, &ws, 0, nil)
		})
	}
	return nil
}

// openShimLog opens the container's shim log for appending, rotated
// first when it has grown too large.
func openShimLog(name string) (*os.File, error) {
	if err := rotateShimLog(name, maxShimLog); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening shim log: %w", err)
	}
	return f, nil
}

// launchOwnThread sets the container up and launches its run (with
// hold, only makes it: see launch) on a thread of its own, in a mount
// namespace of its own where the rootfs is mounted: the container's own
// namespace, copied from it, is the only one left holding the rootfs when
// the thread ends. It returns the run and a non-blocking pidfd of its
// init.
func (s *shim) launchOwnThread(cgroupParent string, hold bool) (l launched, pidfd *os.File, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread ends with the goroutine, and its
		// namespace with it (the main thread is the main goroutine's).
		goruntime.LockOSThread()
		if err = mountRootfsPrivately(s.cfg, s.p); err != nil {
			return
		}
		if err = s.setupMounted(cgroupParent); err != nil {
			return
		}
		if l, err = s.launch(hold); err != nil {
			return
		}
		pid, _ := l.proc.Pid()
		fd, perr := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK) // close on exec: pidfds always are
		if perr != nil {
			s.abandon(l)
			l, err = launched{}, fmt.Errorf("opening the init's pidfd: %w", perr)
			return
		}
		pidfd = os.NewFile(uintptr(fd), "init-pidfd")
	}()
	<-done
	return l, pidfd, err
}

// spawnSupervisor spawns the supervisor of the run l, berth-idle as a
// shim gone idle is (or, where it cannot be, the Go shim, as after a
// re-exec), with the directory lock, the control socket, the outputs, the
// log, the init's pidfd and a handoff (see handoff) for the Go shim.
// Its standard output and error go to shimLog. The descriptors are
// passed by number, none of this process's made inheritable: the inits
// of other starts fork meanwhile.
// It returns the supervisor's pid and, where it could be opened, its
// pidfd.
func (s *shim) spawnSupervisor(st *starter, l launched, lock, pidfd, shimLog *os.File) (int, *os.File, error) {
	spec, err := s.specJSON()
	if err != nil {
		return 0, nil, err
	}
	pid, _ := l.proc.Pid()
	h := handoff{Pid: pid, StartedAt: l.at, MemDir: l.memDir, Lean: l.lean, Spec: spec, Stdin: -1, Master: -1,
		Idle: &idleResume{}}
	fds := []int{-1, -1, -1, -1} // stdin (/dev/null), stdout, stderr, the handoff: set below
	add := func(c syscall.Conn) (int, error) {
		fd, err := rawFD(c)
		if err != nil {
			return -1, err
		}
		fds = append(fds, fd)
		return len(fds) - 1, nil
	}
	if h.Lock, err = add(lock); err != nil {
		return 0, nil, err
	}
	ul, err := unixListener(s.ln)
	if err != nil {
		return 0, nil, err
	}
	if h.Listener, err = add(ul); err != nil {
		return 0, nil, err
	}
	for _, o := range l.sio.outputs {
		fd, err := add(o.f)
		if err != nil {
			return 0, nil, err
		}
		h.Outputs = append(h.Outputs, handoffOutput{o.stream, o.kind, fd})
	}
	if h.PidFD, err = add(pidfd); err != nil {
		return 0, nil, err
	}
	// berth-idle, where it can supervise from birth, with the descriptors
	// of the Go shim's binary and of the log; else the Go shim, which
	// takes the run over from the handoff as after a re-exec.
	bin, env := st.exe, reexecEnv(os.Environ(), 3)
	if s.idlesFromBirth(l) {
		exe, err := os.OpenFile(st.exe, unix.O_PATH, 0)
		if err != nil {
			return 0, nil, err
		}
		defer exe.Close()
		exeFD, err := add(exe)
		if err != nil {
			return 0, nil, err
		}
		logFD := -1
		if !s.log.discard {
			if logFD, err = add(s.log.f); err != nil {
				return 0, nil, err
			}
		}
		args, err := s.idleArgs(h, exeFD, logFD, nil)
		if err != nil {
			return 0, nil, err
		}
		bin, env = st.idle, append([]string{idleArgsEnv + "=" + strings.Join(args, "\n")}, env...)
	}
	mfd, err := writeHandoff(s.p.dir, h)
	if err != nil {
		return 0, nil, err
	}
	defer unix.Close(mfd)
	null, err := os.Open(os.DevNull)
	if err != nil {
		return 0, nil, err
	}
	defer null.Close()
	out, err := rawFD(shimLog)
	if err != nil {
		return 0, nil, err
	}
	fds[0], fds[1], fds[2], fds[3] = int(null.Fd()), out, out, mfd
	files := make([]uintptr, len(fds))
	for i, fd := range fds {
		files[i] = uintptr(fd)
	}
	argv := append([]string{"berth", "shim"}, shimArgs{ID: s.cfg.ID, Root: st.root, RunRoot: st.runRoot, CgroupParent: st.cgroupParent}.argv()...)
	spid, err := syscall.ForkExec(bin, argv, &syscall.ProcAttr{Dir: "/", Env: env, Files: files,
		Sys: &syscall.SysProcAttr{Setsid: true}})
	if err != nil {
		return 0, nil, err
	}
	sfd, err := unix.PidfdOpen(spid, unix.PIDFD_NONBLOCK) // our unreaped child: its pid is its own
	if err != nil {
		// Running, it supervises: reaped by the reaper once this ends.
		return spid, nil, nil
	}
	return spid, os.NewFile(uintptr(sfd), "supervisor-pidfd"), nil
}

// idlesFromBirth reports whether berth-idle can supervise the run l from
// its start: no health checks to run, and an OOM watch it can keep (cgroup
// v1) where events are recorded.
func (s *shim) idlesFromBirth(l launched) bool {
	return s.cfg.Health == nil && (l.memDir != "" || s.events == nil)
}

// reapChild waits, in the poller, for the child of pidfd to exit, then
// reaps it with reap and closes pidfd.
func reapChild(pidfd *os.File, reap func()) {
	waitExited(pidfd)
	reap()
	pidfd.Close()
}
