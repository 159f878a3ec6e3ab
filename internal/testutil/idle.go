package testutil

import (
	"os/exec"
	goruntime "runtime"
)

// IdleCCArgs are the cc arguments that build berth-idle (the idle shim,
// C) from its source file src into out, as the Makefile builds it:
// without a C library on amd64 and arm64, with a static glibc elsewhere.
func IdleCCArgs(src, out string) []string {
	args := []string{"-static", "-Os", "-Wall", "-Wextra", "-Werror"}
	if goruntime.GOARCH == "amd64" || goruntime.GOARCH == "arm64" {
		args = append(args, IdleNoLibcFlags...)
	}
	return append(args, "-o", out, src, "-lgcc")
}

// IdleNoLibcFlags build berth-idle with its own system calls and entry
// point (cmd/berth-idle/nolibc.h); the Makefile's IDLE_NOLIBC.
var IdleNoLibcFlags = []string{"-DBERTH_IDLE_NOLIBC", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
	"-fno-pie", "-no-pie", "-fno-tree-loop-distribute-patterns", "-fno-asynchronous-unwind-tables"}

// BuildIdle builds berth-idle from src into out; it returns cc's output
// on failure.
func BuildIdle(src, out string) ([]byte, error) {
	return exec.Command("cc", IdleCCArgs(src, out)...).CombinedOutput()
}
