// Package fscopy copies files between two directory trees with the path
// rules of `docker cp`: a file to a file or into a directory, a directory
// into a directory (DEST/basename) or to a new name, `SRC/.` for a
// directory's content, and tar streams in and out.
//
// Every path is resolved by the kernel inside a Root (openat2 with
// RESOLVE_IN_ROOT), so a symlink in a container's filesystem that points
// at /etc/shadow means the container's /etc/shadow, never the host's; an
// archive is always extracted confined to its destination directory. The
// rules (which path to archive under which name, where to extract it) are
// pure functions over a small FS interface; the syscalls live in the
// _linux.go files.
package fscopy
