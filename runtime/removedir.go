package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// trashPrefix starts the name of a container directory on its way out.
const trashPrefix = ".removing-"

// removeDirAtomic removes a container directory so that no reader, and no
// crash, ever finds it half removed: it is renamed out of the way in one
// step, then deleted. Directories that an earlier removal left renamed
// (berth killed while deleting) are deleted with it.
func removeDirAtomic(dir string) error {
	parent := filepath.Dir(dir)
	trash := filepath.Join(parent, trashPrefix+filepath.Base(dir))
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("removing %s: %w", trash, err)
	}
	switch err := os.Rename(dir, trash); {
	case err == nil:
		if err := syncDir(parent); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("moving %s out of the way: %w", dir, err)
	}
	ents, err := os.ReadDir(parent)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("listing %s: %w", parent, err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), trashPrefix) {
			if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
				return fmt.Errorf("removing %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}
