//go:build linux && cgo && seccomp

package seccache

import (
	"debug/elf"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// A berth-runtime linked statically with libseccomp (as the Makefile
// builds it) has no libseccomp.so to be told apart by: its entries are
// its own build's. The same build hits; a rebuild with other archives
// (the Makefile's linkedLibs, their checksum: here "a" and "b", the Go
// sources the same), which may hold another libseccomp, compiles afresh
// instead of taking the first build's program.
func TestStaticBuildsKeepTheirOwnEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the test twice")
	}
	dir := t.TempDir()
	a, b := buildStatic(t, dir, "a"), buildStatic(t, dir, "b")
	if ida, idb := buildID(t, a), buildID(t, b); ida == idb {
		t.Fatalf("the two builds share the build ID %x", ida)
	}
	sc := &configs.Seccomp{DefaultAction: configs.Allow} // the key only
	for round, step := range []struct{ bin, want string }{
		{a, "armed=0 hits=0"}, // a miss: compiled, the result kept
		{a, "armed=1 hits=2"}, // the same build: a hit at each export
		{b, "armed=1 hits=0"}, // a rebuild: offered, but compiled afresh
		{b, "armed=1 hits=2"}, // and its own result kept
	} {
		o, err := NewOffer(dir, sc)
		if err != nil {
			t.Fatal(err)
		}
		got := runChildOf(t, step.bin, o, "export")
		want := fmt.Sprintf("%s len=", step.want)
		if !strings.HasPrefix(got, want) || !strings.Contains(got, fmt.Sprintf("same=true errno=%d\n", deniedErrno)) {
			t.Errorf("round %d (%s): child printed %q, want %q… same=true errno=%d", round, filepath.Base(step.bin), got, want, deniedErrno)
		}
	}
}

// buildStatic builds this package's tests statically linked, with mark
// as linkedLibs, into dir.
func buildStatic(t *testing.T, dir, mark string) string {
	t.Helper()
	out := filepath.Join(dir, "static-"+mark+".test")
	ldflags := "-extldflags=-static -X github.com/berth-dev/berth/internal/seccache.linkedLibs=" + mark
	cmd := exec.Command("go", "test", "-c", "-tags", "seccomp osusergo netgo", "-ldflags", ldflags, "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the static test: %v: %s", err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Section(".interp") != nil {
		t.Fatalf("%s is not static: it has a program interpreter", out)
	}
	return out
}

// buildID returns the GNU build ID of the program at path.
func buildID(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatalf("%s has no GNU build ID", path)
	}
	b, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
