package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"path"
	"strings"
)

// ErrUnsafeLayer is returned when a layer tries to write outside its
// snapshot directory: an absolute or escaping name, a write through a
// symlink that leaves the root, or a hard link to something outside it.
var ErrUnsafeLayer = errors.New("unsafe layer entry")

// OCI whiteout markers.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// cleanEntryName checks a tar entry name (or hard link target) and returns
// it relative to the layer root, "." for the root itself. Absolute names
// and names whose ".." climbs above the root are refused.
func cleanEntryName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty entry name: %w", ErrUnsafeLayer)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("entry %q: absolute path: %w", name, ErrUnsafeLayer)
	}
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("entry %q: NUL in name: %w", name, ErrUnsafeLayer)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("entry %q: escapes the layer root: %w", name, ErrUnsafeLayer)
	}
	return clean, nil
}

// whiteoutKind says what a (cleaned) entry name means for overlayfs.
type whiteoutKind int

const (
	notWhiteout       whiteoutKind = iota
	whiteoutFile                   // .wh.NAME: NAME is deleted
	whiteoutOpaqueDir              // .wh..wh..opq: the directory hides lower content
	whiteoutMeta                   // other .wh..wh.* AUFS metadata: ignored
)

// classifyWhiteout returns the kind of a cleaned entry name and, for a file
// whiteout, the name of the entry it deletes (in the same directory).
func classifyWhiteout(clean string) (whiteoutKind, string) {
	dir, base := path.Split(clean)
	switch {
	case base == whiteoutOpaque:
		return whiteoutOpaqueDir, ""
	case strings.HasPrefix(base, whiteoutPrefix+whiteoutPrefix):
		return whiteoutMeta, ""
	case strings.HasPrefix(base, whiteoutPrefix):
		target := strings.TrimPrefix(base, whiteoutPrefix)
		if target == "" || target == "." || target == ".." {
			return whiteoutMeta, ""
		}
		return whiteoutFile, dir + target
	default:
		return notWhiteout, ""
	}
}

// splitParent splits a cleaned name into its parent directory ("." at the
// top) and base name.
func splitParent(clean string) (dir, base string) {
	dir, base = path.Split(clean)
	if dir == "" {
		return ".", base
	}
	return strings.TrimSuffix(dir, "/"), base
}

// isSparse reports a GNU sparse file entry (old GNU format, or PAX 0.x/1.0
// "GNU.sparse.*" records). berth refuses those: a few bytes of tar can
// claim terabytes of holes, and Docker's own tools never write them.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
