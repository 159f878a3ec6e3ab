package e2e

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// json-file rotates by max-size over max-file files, compressed; logs
// reads across them, oldest first; driver none keeps nothing and says so.
func TestLoggingRotation(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, `
services:
  chatty:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "i=0; while [ $$i -lt 300 ]; do echo line-$$i; i=$$((i+1)); done"]
    logging:
      driver: json-file
      options:
        max-size: 2k
        max-file: "4"
        compress: "true"
  quiet:
    image: berth-e2e/busybox:1
    command: ["echo", "unseen"]
    logging:
      driver: none
`, "-t", "0")
	u.run("up", "-d")
	name := u.project + "-chatty-1"
	until(t, "saw chatty exit", func() bool {
		return strings.TrimSpace(u.run("inspect", "-f", "{{.State.Status}}", name)) == "exited"
	})
	var logs []string
	filepath.WalkDir(u.root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), name+"-json.log") {
			logs = append(logs, p)
		}
		return nil
	})
	var gz int
	for _, l := range logs {
		if strings.HasSuffix(l, ".gz") {
			gz++
		}
	}
	if gz != 3 || len(logs) != 4 {
		t.Errorf("log files %q, want the current one and 3 compressed", logs)
	}
	out := strings.Split(strings.TrimSpace(u.run("logs", "--no-log-prefix", "chatty")), "\n")
	if len(out) < 20 || len(out) >= 300 || out[len(out)-1] != "line-299" {
		t.Fatalf("logs gave %d lines ending %q", len(out), out[len(out)-1])
	}
	first := 300 - len(out)
	for i, l := range out {
		if want := fmt.Sprintf("line-%d", first+i); l != want {
			t.Fatalf("line %d is %q, want %q: the rotated files are not read in order", i, l, want)
		}
	}
	if got := strings.TrimSpace(u.run("inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-file\"}}", name)); got != "json-file 4" {
		t.Errorf("inspect LogConfig %q", got)
	}
	if out, err := u.try("logs", "quiet"); err == nil || !strings.Contains(out, "configured logging driver does not support reading") {
		t.Errorf("logs of a none driver: %v\n%s", err, out)
	}
}
