// Package build builds images from a Dockerfile and a context directory
// without any daemon: the Dockerfile is read with BuildKit's own parser,
// instruction and shell-lexer packages, each RUN runs in a real container
// of the runtime over an overlay of the stage's layers, each step that
// changes files becomes one OCI layer (a tar diff of the step's upper
// directory, deletions as whiteouts) in the image store, and steps are
// reused from a cache keyed by their parent, their expanded instruction,
// the build args in scope and the content of the files they copy.
package build
