package store

import (
	"context"
	"fmt"
	"os"
	"time"
)

// RecordExitHook is the shims' exit hook: it records a container's exit
// code and time in the store under root, if the store has this build's
// schema (a shim never migrates it). It runs in the shim process, which has
// nobody to return an error to, so failures go to its stderr (the shim log).
func RecordExitHook(root, id string, code int, at time.Time) {
	st, err := OpenCurrent(root)
	if err == nil {
		err = st.RecordExit(context.Background(), id, code, at)
		st.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "recording the exit of %s: %v\n", id, err)
	}
}
