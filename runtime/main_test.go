package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// hookDirEnv names the directory where the test shims' exit hook records
// exits, one file per container, one line per exit.
const hookDirEnv = "BERTH_RUNTIME_TEST_HOOKS"

// debugEnv set makes the test shims (this binary, re-executed) log at
// logrus's debug level, as libcontainer does then: its debug lines, and
// those of the inits it starts, go to shim.log (see
// TestInitLogsAtTheShimsLevel).
const debugEnv = "BERTH_RUNTIME_TEST_DEBUG"

func TestMain(m *testing.M) {
	if os.Getenv(debugEnv) != "" {
		logrus.SetLevel(logrus.DebugLevel)
	}
	Reexec(WithExitHook(recordExit), WithEventHook(recordEvent))
	dir, err := os.MkdirTemp("", "berth-rt-hooks")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(hookDirEnv, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// recordExit is the exit hook of the test shims.
func recordExit(_, id string, code int, at time.Time) {
	f, err := os.OpenFile(filepath.Join(os.Getenv(hookDirEnv), id), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%d %s\n", code, at.Format(time.RFC3339Nano))
}
