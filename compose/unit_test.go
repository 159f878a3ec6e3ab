package compose

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// The shipped systemd unit and its example options parse as berth's
// command line, so neither rots when a flag changes.
func TestReconcileUnitParses(t *testing.T) {
	unit, err := os.ReadFile("../contrib/systemd/berth-reconcile@.service")
	if err != nil {
		t.Fatal(err)
	}
	var exec []string
	sc := bufio.NewScanner(strings.NewReader(string(unit)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			exec = strings.Fields(v)
		}
	}
	env, err := os.ReadFile("../contrib/systemd/reconcile.env.example")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, l := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(l, "BERTH_RECONCILE_ARGS="); ok {
			args = strings.Fields(v)
		}
	}
	if len(exec) < 2 || len(args) == 0 {
		t.Fatalf("ExecStart %v, args %v", exec, args)
	}
	var line []string
	for _, w := range exec[1:] {
		switch w {
		case "%i":
			line = append(line, "shop")
		case "$BERTH_RECONCILE_ARGS":
			line = append(line, args...)
		default:
			line = append(line, w)
		}
	}
	root := NewRootCommand()
	cmd, rest, err := root.Traverse(line)
	if err != nil || cmd.Name() != "reconcile" {
		t.Fatalf("%v: %v %v", line, cmd.Name(), err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("the example options do not parse: %v", err)
	}
	if v, _ := cmd.Flags().GetString("git"); !strings.HasPrefix(v, "https://") {
		t.Errorf("--git = %q", v)
	}
	if v, _ := cmd.Flags().GetBool("watch"); !v {
		t.Error("the unit does not watch")
	}
}

// The boot unit runs a command berth has, with arguments it takes.
func TestBootUnitParses(t *testing.T) {
	unit, err := os.ReadFile("../contrib/systemd/berth-boot.service")
	if err != nil {
		t.Fatal(err)
	}
	var exec []string
	for _, l := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			exec = strings.Fields(v)
		}
	}
	if len(exec) < 2 {
		t.Fatalf("ExecStart %v", exec)
	}
	cmd, rest, err := NewRootCommand().Traverse(exec[1:])
	if err != nil || cmd.Name() != "boot" {
		t.Fatalf("%v: %v %v", exec, cmd.Name(), err)
	}
	if err := cmd.Args(cmd, rest); err != nil {
		t.Fatalf("%v: %v", exec, err)
	}
}
