//go:build linux && cgo && seccomp

package seccache

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runc/libcontainer/configs"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// hitChild, set in a child's environment, makes TestAfterAHit... run the
// child's part: arm from fd 3, make the test's filter, export it twice,
// load it and try the call it denies.
const hitChild = "BERTH_SECCACHE_TEST_CHILD"

// deniedErrno is what the test's filter answers getppid with.
const deniedErrno = 99

// childFilter makes, exports twice and loads the test's filter, writing
// to stdout what a parent checks: armed, hits, exports, whether they are
// the same, and getppid's errno after the load.
func childFilter() error {
	armed := arm(3)
	f, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return err
	}
	if os.Getenv(hitChild) == "bad-rule" {
		return childBadRule(f)
	}
	if err := f.AddRule(libseccomp.ScmpSyscall(unix.SYS_GETPPID), libseccomp.ActErrno.SetReturnCode(deniedErrno)); err != nil {
		return err
	}
	export := func() ([]byte, error) {
		m, err := unix.MemfdCreate("bpf", unix.MFD_CLOEXEC)
		if err != nil {
			return nil, err
		}
		mf := os.NewFile(uintptr(m), "bpf")
		defer mf.Close()
		if err := f.ExportBPF(mf); err != nil {
			return nil, err
		}
		if _, err := mf.Seek(0, 0); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		_, err = b.ReadFrom(mf)
		return b.Bytes(), err
	}
	first, err := export()
	if err != nil {
		return err
	}
	second, err := export()
	if err != nil {
		return err
	}
	hits := ReadStats().Hits
	if err := f.Load(); err != nil {
		return err
	}
	_, _, errno := syscall.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	fmt.Printf("armed=%d hits=%d len=%d same=%t errno=%d\n", armed, hits, len(first), bytes.Equal(first, second), int(errno))
	return nil
}

// childBadRule adds a rule libseccomp refuses (the default action's own),
// deferred while armed, then the test's rule, and loads the filter
// without an export: the load must fail, not install a filter without
// the refused rule.
func childBadRule(f *libseccomp.ScmpFilter) error {
	if err := f.AddRule(libseccomp.ScmpSyscall(unix.SYS_GETPID), libseccomp.ActAllow); err != nil {
		return fmt.Errorf("the refused rule was not deferred: %w", err)
	}
	if err := f.AddRule(libseccomp.ScmpSyscall(unix.SYS_GETPPID), libseccomp.ActErrno.SetReturnCode(deniedErrno)); err != nil {
		return err
	}
	err := f.Load()
	_, _, errno := syscall.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	fmt.Printf("load-failed=%t errno=%d\n", err != nil, int(errno))
	return nil
}

func TestMain(m *testing.M) {
	if os.Getenv(hitChild) != "" {
		if err := childFilter(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild runs the child's part with o's socket as its fd 3, collects
// its result into the cache and returns what it printed.
func runChild(t *testing.T, o *Offer, mode string) string {
	t.Helper()
	return runChildOf(t, os.Args[0], o, mode)
}

// runChildOf is runChild with the child run from the test binary bin.
func runChildOf(t *testing.T, bin string, o *Offer, mode string) string {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), hitChild+"="+mode)
	cmd.ExtraFiles = []*os.File{o.File()}
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("child: %v: %s", err, ee.Stderr)
	} else if err != nil {
		t.Fatal(err)
	}
	o.Collect()
	return string(out)
}

// After a hit, the filter keeps its rules: a second export gives the same
// program and a load installs them (the rules deferred at the hit run
// then), instead of a filter holding only its default action.
func TestAfterAHitTheFilterKeepsItsRules(t *testing.T) {
	dir := t.TempDir()
	sc := &configs.Seccomp{DefaultAction: configs.Allow} // the key only
	for round, want := range []string{
		"armed=0 hits=0", // a miss: compiled, the result kept
		"armed=1 hits=2", // a hit at each export
	} {
		o, err := NewOffer(dir, sc)
		if err != nil {
			t.Fatal(err)
		}
		got := runChild(t, o, "export")
		wantLine := fmt.Sprintf("%s len=", want)
		if !bytes.HasPrefix([]byte(got), []byte(wantLine)) || !bytes.Contains([]byte(got), []byte(fmt.Sprintf("same=true errno=%d\n", deniedErrno))) {
			t.Errorf("round %d: child printed %q, want %q… same=true errno=%d", round, got, wantLine, deniedErrno)
		}
	}
}

// A deferred rule that libseccomp refuses when it runs fails the call that
// made it run (here the load): the filter is never installed without it.
func TestAFailedDeferredRuleFailsClosed(t *testing.T) {
	dir := t.TempDir()
	sc := &configs.Seccomp{DefaultAction: configs.Allow}  // the key only
	for _, mode := range []string{"export", "bad-rule"} { // an entry, so that rules are deferred
		o, err := NewOffer(dir, sc)
		if err != nil {
			t.Fatal(err)
		}
		got := runChild(t, o, mode)
		if mode == "bad-rule" && got != "load-failed=true errno=0\n" {
			t.Errorf("child printed %q, want the load failed and getppid allowed", got)
		}
	}
}

// Keeping an entry removes the temporary files a crashed shim left, and
// not one another shim is writing, and the entries of an earlier naming,
// not another entry of the current one.
func TestKeepRemovesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	// An earlier build's name, and atomicfile's.
	old, old2, fresh := filepath.Join(dir, ".tmp-1"), filepath.Join(dir, ".k2-0123.42"), filepath.Join(dir, ".tmp-2")
	for _, name := range []string{old, old2, fresh} {
		if err := os.WriteFile(name, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	then := time.Now().Add(-staleTemp - time.Minute)
	for _, name := range []string{old, old2} {
		if err := os.Chtimes(name, then, then); err != nil {
			t.Fatal(err)
		}
	}
	// An entry of the current naming, one of the earlier (the hash alone,
	// without the scheme) and a file of another kind.
	other := filepath.Join(dir, entryName(&configs.Seccomp{DefaultAction: configs.Allow}))
	earlier := filepath.Join(dir, strings.Repeat("0123456789abcdef", 2))
	alien := filepath.Join(dir, "notes.txt")
	for _, name := range []string{other, earlier, alien} {
		if err := os.WriteFile(name, []byte("entry"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	entry := filepath.Join(dir, entryName(&configs.Seccomp{DefaultAction: configs.Kill}))
	if err := keep(entry, Entry{Log: bytes.Repeat([]byte("l"), 8), BPF: make([]byte, 8)}); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{old, old2, earlier} {
		if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", filepath.Base(gone), err)
		}
	}
	for _, kept := range []string{fresh, other, entry, alien} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s is gone: %v", filepath.Base(kept), err)
		}
	}
}

func TestStaleEntryName(t *testing.T) {
	name := entryName(&configs.Seccomp{DefaultAction: configs.Allow})
	h := name[len(entryScheme):]
	for n, want := range map[string]bool{
		name: false, h: true, "k1-" + h: true, entryScheme + strings.ToUpper(h): false, strings.ToUpper(h): false,
		h[1:] + "g": false, ".tmp-" + h: false, "static-a.test": false, "": false, "x" + h: false,
	} {
		if got := staleEntryName(n); got != want {
			t.Errorf("staleEntryName(%q) = %v, want %v", n, got, want)
		}
	}
}
