package compose

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// helper is a program that is berth with more linked in, kept apart so
// that what it links weighs on no other command: berth execs it, with the
// same arguments, for the commands that need it.
type helper struct {
	name string // its file name
	env  string // the environment variable naming its path
	what string // the commands that need it, for the error when it is missing
}

var (
	// kubeHelper holds client-go and the Kubernetes forms of the commands.
	kubeHelper = helper{"berth-kube", "BERTH_KUBE", "the Kubernetes commands"}
	// gitopsHelper holds go-git and the Prometheus client.
	gitopsHelper = helper{"berth-gitops", "BERTH_GITOPS", "reconcile --git and --metrics"}
)

// path finds h: at its environment variable, else beside the berth
// executable, else in PATH; "" when there is none.
func (h helper) path() string {
	if p := besideBerth(h.env, h.name); p != "" || os.Getenv(h.env) != "" {
		return p
	}
	p, err := exec.LookPath(h.name)
	if err != nil {
		return ""
	}
	return p
}

// exec replaces berth with h, given the same arguments and environment:
// it parses them with the same command line, so its output, errors and
// exit code are the command's. It returns only when h cannot be run.
func (h helper) exec() error {
	path := h.path()
	if path == "" {
		where := "in PATH"
		if self, err := os.Executable(); err == nil {
			where = "beside " + self + " or in PATH"
		}
		if env := os.Getenv(h.env); env != "" {
			where = "at " + h.env + "=" + env
		}
		return fmt.Errorf("%s need %s, which is not installed (looked %s): install it with berth (make install), or set %s", h.what, h.name, where, h.env)
	}
	if err := h.notBerth(path); err != nil {
		return err
	}
	err := syscall.Exec(path, append([]string{path}, os.Args[1:]...), os.Environ())
	return fmt.Errorf("running %s: %w", path, err)
}

// notBerth refuses a path to h that is this very program (its variable,
// or PATH, naming berth): berth would exec itself for ever.
func (h helper) notBerth(path string) error {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	a, err1 := os.Stat(path)
	b, err2 := os.Stat(self)
	if err1 != nil || err2 != nil || !os.SameFile(a, b) {
		return nil
	}
	where := "found beside berth or in PATH"
	if env := os.Getenv(h.env); env != "" {
		where = "named by " + h.env
	}
	return fmt.Errorf("%s need %s, but %s (%s) is this berth itself: set %s to the path of %s", h.what, h.name, path, where, h.env, h.name)
}
