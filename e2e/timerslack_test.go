package e2e

import (
	"bytes"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/testutil"
)

// cliSlack is the timer slack berth is started with here: neither the
// kernel's default nor the one berth gives its Go runtime's sysmon thread.
const cliSlack = 61000

// A container's processes keep the timer slack berth was started with,
// whichever way they start (through the starter, held by depends_on, as a
// one-off, by exec): the slack berth's processes give their sysmon thread
// (internal/sysmonslack) reaches none of them.
func TestContainersKeepTheTimerSlackBerthHad(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  a:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "cat /proc/self/timerslack_ns; exec sleep 1000"]
  b:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "cat /proc/self/timerslack_ns; exec sleep 1000"]
    depends_on: [a]
`, "-t", "0")
	u.withSlack("up", "-d")
	for _, svc := range []string{"a", "b"} {
		waitFor(t, svc+"'s slack in its log", func() bool { return strings.TrimSpace(u.run("logs", "--no-log-prefix", svc)) != "" })
		if got := strings.TrimSpace(u.run("logs", "--no-log-prefix", svc)); got != strconv.Itoa(cliSlack) {
			t.Errorf("service %s: timer slack %q, want %d", svc, got, cliSlack)
		}
	}
	for what, args := range map[string][]string{
		"exec":     {"exec", "-T", "a", "cat", "/proc/self/timerslack_ns"},
		"run --rm": {"run", "--rm", "-T", "a", "cat", "/proc/self/timerslack_ns"},
	} {
		if got := strings.TrimSpace(u.withSlack(args...)); got != strconv.Itoa(cliSlack) {
			t.Errorf("%s: timer slack %q, want %d", what, got, cliSlack)
		}
	}
}

// withSlack runs berth from a thread whose timer slack is cliSlack and
// returns its standard output, failing the test if it fails.
func (u *user) withSlack(args ...string) string {
	u.t.Helper()
	cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
	cmd.Dir, cmd.Env = u.dir, u.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	was, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		u.t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, cliSlack, 0, 0, 0); err != nil {
		u.t.Fatal(err)
	}
	err = cmd.Run()
	unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(was), 0, 0, 0)
	if err != nil {
		u.t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}
