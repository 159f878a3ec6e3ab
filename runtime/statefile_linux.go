package runtime

import (
	"encoding/json"
	"fmt"
	"os"
)

// A shim publishes its container's state in a file beside its socket at
// every change, so that reading the state of a supervised container costs
// a file read instead of a round trip that wakes the shim: an `up` reads
// the state of every container of its project. The file is only trusted
// while its shim holds the container's lock (see State); Runtime.run
// removes the one a previous shim left before it spawns the next.

// publish writes s.state to the state file; the caller holds s.mu, so
// that the file changes in the order the state does.
func (s *shim) publish() {
	st := s.state
	st.Shim = true
	data, err := json.Marshal(st)
	if err == nil {
		err = writeVolatile(s.p.state, data)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "shim %s: publishing its state: %v\n", s.cfg.ID, err)
	}
}

// writeVolatile replaces name with data at once, as writeJSONAtomic does
// but without syncing: the file lives under the run root, which a reboot
// empties anyway.
func writeVolatile(name string, data []byte) error {
	tmp := name + ".tmp" // one writer: the shim, under its mutex
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// readPublished is the state a live shim published at name; false when
// there is none yet (the shim is starting) or it does not decode.
func readPublished(name string) (State, bool) {
	var st State
	if err := readJSON(name, &st); err != nil {
		return st, false
	}
	return st, true
}
