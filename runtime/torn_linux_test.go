package runtime

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/berth-dev/berth/lifecycle"
)

// A crash can leave a state file empty or cut short, or a container
// directory without its config (a removal or a creation cut short): none of
// them may make the container unreadable.
func TestTornStateFiles(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c := e.config("exit 3")
	e.start(t, c)
	e.waitExited(t, c.ID)
	p := e.rt.paths(c.ID)

	for _, torn := range []string{"", `{"code": 3, "star`} {
		if err := os.WriteFile(p.exit, []byte(torn), 0o600); err != nil {
			t.Fatal(err)
		}
		if st, err := e.rt.State(ctx, c.ID); err != nil || st.Status != lifecycle.Exited || st.ExitCode != -1 {
			t.Fatalf("torn exit.json %q: %+v, %v; want exited -1", torn, st, err)
		}
	}
	if err := e.rt.Restart(ctx, c.ID); err != nil {
		t.Fatalf("starting over a torn exit.json: %v", err)
	}
	if st := e.waitExited(t, c.ID); st.ExitCode != 3 {
		t.Fatalf("after the restart: %+v", st)
	}

	for _, torn := range []string{"", `{"id": "x`, "-"} {
		if torn == "-" {
			os.Remove(p.config)
		} else if err := os.WriteFile(p.config, []byte(torn), 0o600); err != nil {
			t.Fatal(err)
		}
		if st, err := e.rt.State(ctx, c.ID); err != nil || st.Status != lifecycle.Missing {
			t.Fatalf("config.json %q: %+v, %v; want missing", torn, st, err)
		}
	}
	// A removal killed after its rename leaves the directory renamed:
	// nobody lists it, the next removal deletes it.
	trash := filepath.Join(e.root, "containers", trashPrefix+"gone")
	if err := os.MkdirAll(filepath.Join(trash, "upper"), 0o700); err != nil {
		t.Fatal(err)
	}
	if ids, _ := e.rt.List(); slices.Contains(ids, trashPrefix+"gone") {
		t.Fatalf("List shows a directory being removed: %v", ids)
	}
	if err := e.rt.Remove(ctx, c.ID); err != nil {
		t.Fatalf("removing a container without config: %v", err)
	}
	for _, gone := range []string{p.dir, trash} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", gone, err)
		}
	}
}
