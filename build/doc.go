// Package build builds images from a Dockerfile and a context directory
// without any daemon. The Dockerfile is read with BuildKit's own parser,
// instruction and shell-lexer packages and .dockerignore with
// moby/patternmatcher. Only the stages the target needs run. Each RUN
// runs in a real container of the runtime over an overlay of the stage's
// layers (its network comes from Options.Network: loopback only without
// it); COPY and ADD read the context confined to it (openat2-style
// os.Root: `..` and escaping symlinks refused, symlinks kept as links); ADD of an http(s) URL downloads it
// (mode 0600, the time of Last-Modified, --checksum verified, never
// extracted) and git sources are refused as not supported.
// Each step that changes files becomes one OCI layer — a tar diff of the
// step's upper directory, overlayfs whiteouts turned into .wh. entries —
// in the image store, and the result is an ordinary image of the store.
// Steps are reused from a cache keyed by their parent, their expanded
// instruction, the build args in scope and the content (not the times)
// of the files they copy; a build repeated from the cache gives the same
// image.
package build
