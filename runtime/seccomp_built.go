//go:build linux && cgo && seccomp

package runtime

// seccompBuilt: libcontainer's seccomp support is compiled in.
const seccompBuilt = true
