package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
)

var helperBuilds sync.Map // package path -> *helperBuild

type helperBuild struct {
	once sync.Once
	bin  []byte
	err  error
	out  []byte
}

// GoHelper builds a static binary of one of the helper programs under
// internal/testutil (e.g. "udpecho") once per test binary and returns it.
func GoHelper(t testing.TB, name string) []byte {
	t.Helper()
	v, _ := helperBuilds.LoadOrStore(name, &helperBuild{})
	b := v.(*helperBuild)
	b.once.Do(func() {
		_, self, _, _ := goruntime.Caller(0)
		dir, err := os.MkdirTemp("", "berth-helper")
		if err != nil {
			b.err = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", out, "./"+name)
		cmd.Dir = filepath.Dir(self)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b.out, b.err = cmd.CombinedOutput(); b.err == nil {
			b.bin, b.err = os.ReadFile(out)
		}
	})
	if b.err != nil {
		t.Fatalf("building test helper %s: %v\n%s", name, b.err, b.out)
	}
	return b.bin
}
