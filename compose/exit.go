package compose

import "fmt"

// ExitError ends berth with Code and prints nothing more: the exit status
// of a process berth ran for the user (exec, run, wait), passed on as
// berth's own.
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// exitStatus is nil for 0, else an ExitError carrying code.
func exitStatus(code int) error {
	if code == 0 {
		return nil
	}
	return &ExitError{Code: code}
}
