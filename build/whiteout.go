package build

import "path"

// OCI whiteout names (image-spec layer.md): a deleted path is an empty
// file named .wh.<name> beside it; a directory whose lower content is
// hidden holds .wh..wh..opq.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// whiteoutName is the layer entry that deletes p ("a/b" → "a/.wh.b").
func whiteoutName(p string) string {
	dir, base := path.Split(p)
	return dir + whiteoutPrefix + base
}

// opaqueName is the layer entry that makes directory dir opaque.
func opaqueName(dir string) string { return path.Join(dir, opaqueMarker) }

// runtimeMountPoints are the directories the runtime mounts over in every
// container; when a RUN over a base that lacks them makes them in its
// upper directory, empty, they are not part of the step's change.
var runtimeMountPoints = map[string]bool{
	"proc": true, "sys": true, "dev": true, "dev/pts": true, "dev/shm": true, "dev/mqueue": true,
}

// runtimeStubs are runtimeMountPoints as mount targets, deepest first.
var runtimeStubs = []string{"/dev/pts", "/dev/shm", "/dev/mqueue", "/proc", "/sys", "/dev"}
