package engine

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/berth-dev/berth/store"
)

// RecordExit is the shims' exit hook: it records a container's exit code
// and time in the store under root. It runs in the shim process, which has
// nobody to return an error to, so failures go to its stderr (the shim log).
func RecordExit(root, id string, code int, at time.Time) {
	st, err := store.Open(root)
	if err == nil {
		err = st.RecordExit(context.Background(), id, code, at)
		st.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "recording the exit of %s: %v\n", id, err)
	}
}
