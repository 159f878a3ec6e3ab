//go:build !linux || !cgo || !seccomp

package runtime

// seccompBuilt: built without the seccomp tag (or cgo), libcontainer
// cannot install seccomp filters; the Makefile says so when it builds.
const seccompBuilt = false
