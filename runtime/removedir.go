package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// trashPrefix starts the name of a container directory on its way out.
const trashPrefix = ".removing-"

// removeDirAtomic removes a container directory so that no reader, and no
// crash, ever finds it half removed: it is renamed out of the way in one
// step, then deleted. Directories that an earlier removal left renamed
// (berth killed while deleting) go too, best effort: another berth may be
// deleting its own at the same moment.
func removeDirAtomic(dir string) error {
	parent := filepath.Dir(dir)
	trash := filepath.Join(parent, trashPrefix+filepath.Base(dir))
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("removing %s: %w", trash, err)
	}
	switch err := os.Rename(dir, trash); {
	case err == nil:
		if err := atomicfile.SyncDir(parent); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("moving %s out of the way: %w", dir, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("removing %s: %w", trash, err)
	}
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), trashPrefix) {
			_ = os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
	return nil
}
