package testutil

import (
	"os/exec"
)

// IdleCC is the C compiler that builds berth-idle (the idle shim) as the
// Makefile's IDLE_CC does: musl-gcc where it is installed, else cc.
func IdleCC() string {
	if p, err := exec.LookPath("musl-gcc"); err == nil {
		return p
	}
	return "cc"
}

// IdleCCArgs are the compiler's arguments that build berth-idle from its
// source file src into out, as the Makefile builds it.
func IdleCCArgs(src, out string) []string {
	return []string{"-static", "-Os", "-Wall", "-Wextra", "-Werror", "-o", out, src}
}

// BuildIdle builds berth-idle from src into out; it returns the
// compiler's output on failure.
func BuildIdle(src, out string) ([]byte, error) {
	return exec.Command(IdleCC(), IdleCCArgs(src, out)...).CombinedOutput()
}
