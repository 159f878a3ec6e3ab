package testutil

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildPrograms builds each of berth's programs named (directories under
// cmd/, found from a test of cmd/<program>) into one temporary directory,
// side by side as make install puts them, and returns the directory.
func BuildPrograms(t testing.TB, progs ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, prog := range progs {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, prog), "../"+prog).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", prog, err, out)
		}
	}
	return dir
}

// RunProgram runs bin with args, its environment this process's with env
// after it, and returns its stdout, its stderr and its exit code.
func RunProgram(t testing.TB, env []string, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}
