package compose

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// kubeBinary finds berth-kube, which holds client-go and the Kubernetes
// forms of the commands: BERTH_KUBE, else beside the berth executable,
// else in PATH; "" when there is none.
func kubeBinary() string {
	if p := besideBerth("BERTH_KUBE", "berth-kube"); p != "" || os.Getenv("BERTH_KUBE") != "" {
		return p
	}
	p, err := exec.LookPath("berth-kube")
	if err != nil {
		return ""
	}
	return p
}

// execKube replaces berth with berth-kube, given the same arguments and
// environment: it parses them with the same command line, so its output,
// errors and exit code are the command's. It returns only when berth-kube
// cannot be run.
func execKube() error {
	path := kubeBinary()
	if path == "" {
		where := "in PATH"
		if self, err := os.Executable(); err == nil {
			where = "beside " + self + " or in PATH"
		}
		if env := os.Getenv("BERTH_KUBE"); env != "" {
			where = "at BERTH_KUBE=" + env
		}
		return fmt.Errorf("the Kubernetes commands need berth-kube, which is not installed (looked %s): install it with berth (make install), or set BERTH_KUBE", where)
	}
	err := syscall.Exec(path, append([]string{path}, os.Args[1:]...), os.Environ())
	return fmt.Errorf("running %s: %w", path, err)
}
