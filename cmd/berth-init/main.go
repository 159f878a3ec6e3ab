// Command berth-init is the init of containers with `init: true`, as
// Docker's docker-init (tini): it runs as PID 1, starts the command, hands
// every signal it gets to it, reaps every orphan that ends, and exits with
// the command's status (128+N when a signal N killed it). It is built
// static (CGO_ENABLED=0) so that it runs in any image; berth bind-mounts it
// read-only at /sbin/docker-init.
//
// Usage: berth-init [--] COMMAND [ARG...]
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() { os.Exit(run(os.Args[1:])) }

// run is the whole init; it returns the exit status.
func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "berth-init: usage: berth-init [--] COMMAND [ARG...]")
		return 2
	}
	if os.Getpid() != 1 {
		// Outside a PID namespace's first place, orphans reach us only as
		// a subreaper.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			fmt.Fprintf(os.Stderr, "berth-init: becoming a subreaper: %v\n", err)
		}
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-init: exec %s failed: %v\n", args[0], err)
		return 127
	}
	// Every signal, caught before the child exists so none is lost.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	pid, err := syscall.ForkExec(path, args, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-init: exec %s failed: %v\n", args[0], err)
		return 127
	}
	for sig := range sigs {
		s := sig.(syscall.Signal)
		switch s {
		case syscall.SIGCHLD:
			if status, done := reap(pid); done {
				return status
			}
		case syscall.SIGURG, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGWINCH:
			// SIGURG is the Go runtime's own; the terminal signals are not
			// the command's business, as with tini. SIGWINCH is forwarded
			// below for a terminal's size.
			if s == syscall.SIGWINCH {
				_ = syscall.Kill(pid, s)
			}
		default:
			if err := syscall.Kill(pid, s); err != nil && !errors.Is(err, syscall.ESRCH) {
				fmt.Fprintf(os.Stderr, "berth-init: forwarding %v: %v\n", s, err)
			}
		}
	}
	return 1
}

// reap collects every child that has ended. When the command is among
// them it returns its exit status and true.
func reap(cmd int) (int, bool) {
	status, done := 0, false
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return status, done // ECHILD or nothing more has ended
		}
		if pid == cmd {
			status, done = exitStatus(ws), true
		}
	}
}

// exitStatus is a wait status as a shell reports it.
func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
