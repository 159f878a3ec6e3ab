package runtime

import (
	"os"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

// TestInitLogsAtTheShimsLevel starts a container from a shim logging at
// debug (debugEnv): the init logs at that level too, its debug lines,
// both the Go part's and nsexec's, reaching shim.log through
// libcontainer. A shim at its default level (Info) gives that level to
// the init, so nsexec writes none of its debug lines there.
func TestInitLogsAtTheShimsLevel(t *testing.T) {
	if got, want := initLogLevel(), "4"; logrus.GetLevel() == logrus.InfoLevel && got != want {
		t.Errorf("the init's log level at Info is %q, want %q", got, want)
	}
	e := newTestEnv(t)
	t.Setenv(debugEnv, "1")
	c := e.config("echo started")
	e.start(t, c)
	e.waitExited(t, c.ID)
	b, err := os.ReadFile(e.rt.paths(c.ID).shimLog)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	// Go's libcontainer.Init logs this at debug only when it is told to
	// (_LIBCONTAINER_LOGLEVEL): by default it is at Info.
	for _, want := range []string{"child process in init()", "nsexec"} {
		if !strings.Contains(log, want) {
			t.Errorf("shim.log has no debug line of the init with %q; it reads:\n%s", want, log)
		}
	}
}
