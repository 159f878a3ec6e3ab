package runtime

import (
	"fmt"
	"slices"
	"strings"
)

// overlayMount is the mount(2) call that assembles a container's root
// filesystem, described as data.
type overlayMount struct {
	Target string
	Data   string // overlay options: lowerdir, upperdir, workdir
}

// maxMountData is the kernel's limit on mount(2) option data (one page).
const maxMountData = 4096

// rootfsMount describes the overlay of layers (bottom first) with upper and
// work, mounted at target. A single layer with no upper is not a case
// berth has: the upper layer always exists.
func rootfsMount(layers []string, upper, work, target string) (overlayMount, error) {
	if len(layers) == 0 {
		return overlayMount{}, fmt.Errorf("%w: no layers", ErrInvalidConfig)
	}
	lower := slices.Clone(layers)
	slices.Reverse(lower) // overlay wants the top layer first
	data := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work + ",index=off"
	if len(data) >= maxMountData {
		return overlayMount{}, fmt.Errorf("%w: %d layers make overlay options of %d bytes (limit %d)", ErrInvalidConfig, len(layers), len(data), maxMountData)
	}
	return overlayMount{Target: target, Data: data}, nil
}
