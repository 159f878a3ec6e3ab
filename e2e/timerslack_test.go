package e2e

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// cliSlack is the timer slack berth is started with here: neither the
// kernel's default nor the one berth gives its Go runtime's sysmon thread.
const cliSlack = 61000

// slackScript prints its shell's timer slack (through a child, which
// inherits it), then the shell's default slack, which it gets back when
// it asks for 0 and which it took from the thread that made it (read by
// the shell itself: another process's needs CAP_SYS_NICE).
const slackScript = `cat /proc/self/timerslack_ns; echo 0 > /proc/self/timerslack_ns; read s < /proc/self/timerslack_ns; echo $s`

// A container's processes keep the timer slack berth was started with,
// current and default, whichever way they start (through the starter,
// held by depends_on, as a one-off, by exec): the slack berth's processes
// give their sysmon thread (internal/sysmonslack) reaches none of them.
func TestContainersKeepTheTimerSlackBerthHad(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	inYAML := strings.ReplaceAll(slackScript, "$", "$$") // compose interpolates $
	u := busyboxProject(t, `
services:
  a:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "`+inYAML+`; exec sleep 1000"]
  b:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "`+inYAML+`; exec sleep 1000"]
    depends_on: [a]
`, "-t", "0")
	u.withSlack("up", "-d")
	want := strings.Repeat(strconv.Itoa(cliSlack)+"\n", 2)
	for _, svc := range []string{"a", "b"} {
		var got string
		waitFor(t, svc+"'s slack in its log", func() bool {
			got = u.run("logs", "--no-log-prefix", svc)
			return strings.Count(got, "\n") >= 2
		})
		if got != want {
			t.Errorf("service %s: timer slack and default %q, want %q", svc, got, want)
		}
	}
	for what, args := range map[string][]string{
		"exec":     {"exec", "-T", "a", "sh", "-c", slackScript},
		"run --rm": {"run", "--rm", "-T", "a", "sh", "-c", slackScript},
	} {
		if got := u.withSlack(args...); got != want {
			t.Errorf("%s: timer slack and default %q, want %q", what, got, want)
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
	if err := testutil.RunWithTimerSlack(cmd, cliSlack); err != nil {
		u.t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}
