package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
)

// ErrPaused reports a container whose processes are frozen: nothing can
// be run in it until it is unpaused.
var ErrPaused = errors.New("container is paused")

// ExecOptions describe a process to run in a running container beside its
// init, as `docker exec` runs one.
type ExecOptions struct {
	Args       []string // the command and its arguments
	Env        []string // "K=V" sets K over the container's environment; a bare "K" removes it
	User       string   // "" = the container's user; else as Config.User
	WorkingDir string   // "" = the container's working directory
	Privileged bool     // every capability, as docker exec --privileged
	Tty        bool     // a pseudo-terminal: Stdin and Stdout are its two sides, Stderr is unused
	Detach     bool     // start the process and return at once, its stdio on /dev/null

	Stdin          io.Reader // nil: the process reads /dev/null
	Stdout, Stderr io.Writer // nil: discarded
	Size           WinSize   // the terminal's size at the start, with Tty
	// Resize receives the terminal's new sizes, with Tty.
	Resize <-chan WinSize
	// Signals are forwarded to the process while it runs.
	Signals <-chan os.Signal
}

// WinSize is the size of a terminal in characters.
type WinSize struct {
	Rows, Cols uint16
}

// execProcess is the process an exec runs, settled before anything runs.
type execProcess struct {
	Args []string
	Env  []string
	Cwd  string
	User Identity
}

// buildExec decides the process of an exec into the container of c, run
// as user (already resolved in the container): the container's
// environment with the exec's overrides and the user's HOME when it sets
// none, the exec's working directory or else the container's. It does no
// I/O. With a terminal, TERM is xterm unless the container or the exec
// sets it.
func buildExec(c Config, o ExecOptions, user Identity) (execProcess, error) {
	var probs []string
	if len(o.Args) == 0 {
		probs = append(probs, "no command")
	}
	if o.WorkingDir != "" && !path.IsAbs(o.WorkingDir) {
		probs = append(probs, fmt.Sprintf("working directory %q is not an absolute path", o.WorkingDir))
	}
	for _, kv := range o.Env {
		if k, _, _ := strings.Cut(kv, "="); k == "" {
			probs = append(probs, fmt.Sprintf("environment variable %q has no name", kv))
		}
	}
	if len(probs) > 0 {
		return execProcess{}, fmt.Errorf("%w: exec in %q: %s", ErrInvalidConfig, c.ID, strings.Join(probs, "; "))
	}
	cwd := o.WorkingDir
	if cwd == "" {
		cwd = c.Cwd
	}
	if cwd == "" {
		cwd = "/"
	}
	env := c.Env
	if o.Tty && !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "TERM=") }) {
		env = append([]string{"TERM=xterm"}, env...) // Docker's, for a terminal
	}
	return execProcess{
		Args: slices.Clone(o.Args),
		Env:  processEnv(overrideEnv(env, o.Env), c.Hostname, user.Home),
		Cwd:  cwd,
		User: user,
	}, nil
}

// overrideEnv applies Docker's rule for an exec's environment: "K=V"
// replaces K where it stands or is appended, a bare "K" removes K.
func overrideEnv(base, over []string) []string {
	out := slices.Clone(base)
	for _, kv := range over {
		key, _, set := strings.Cut(kv, "=")
		i := slices.IndexFunc(out, func(e string) bool { k, _, _ := strings.Cut(e, "="); return k == key })
		switch {
		case !set && i >= 0:
			out = slices.Delete(out, i, i+1)
		case !set:
		case i >= 0:
			out[i] = kv
		default:
			out = append(out, kv)
		}
	}
	return out
}
