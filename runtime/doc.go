// Package runtime runs containers through runc's libcontainer: the overlay
// root filesystem over image snapshots, the process spec, and the per-
// container shim that is the parent of the container's init, keeps its log,
// records its exit and answers stop requests on a unix socket.
package runtime
