package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// The shim's control protocol: one JSON request and one JSON response per
// connection on its unix socket.

// shimRequest asks the shim to act.
type shimRequest struct {
	Op        string `json:"op"` // "stop", "drop", "kill", "state", "pause", "resume", "attach"
	Signal    int    `json:"signal,omitempty"`
	TimeoutMS int64  `json:"timeout_ms,omitempty"`
	Stdin     bool   `json:"stdin,omitempty"`  // attach: the client sends input
	Replay    bool   `json:"replay,omitempty"` // attach: the run's output so far first
	// Discard (stop) says the container is removed next: its root
	// filesystem is left to go with the shim's mount namespace when the
	// shim exits, instead of an unmount the shim waits for.
	Discard bool `json:"discard,omitempty"`

	Resources *Resources `json:"resources,omitempty"` // update: the new limits
}

// shimResponse is the shim's answer.
type shimResponse struct {
	Error      string `json:"error,omitempty"`
	NotRunning bool   `json:"not_running,omitempty"` // the error is ErrNotRunning
	State      *State `json:"state,omitempty"`
	// Dropped: the shim dropped the container, recording nothing (see
	// Runtime.Drop).
	Dropped *dropAnswer `json:"dropped,omitempty"`
}

// dropAnswer is a shim's answer to a drop: the stop signal it sent
// before SIGKILL and the init's exit code; from an idle shim, which
// leaves the container to be destroyed, its cgroup paths for a lean
// destroy (leanOf), if it has them.
type dropAnswer struct {
	Signal   int               `json:"signal"`
	ExitCode int               `json:"exit_code"`
	Lean     map[string]string `json:"lean,omitempty"`
}

// callShim sends req to the shim listening at sock and decodes its answer.
func callShim(ctx context.Context, sock string, req shimRequest) (shimResponse, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return shimResponse{}, fmt.Errorf("connecting to shim %s: %w", sock, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return shimResponse{}, fmt.Errorf("sending %s to shim: %w", req.Op, err)
	}
	var resp shimResponse
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return shimResponse{}, fmt.Errorf("reading shim answer to %s: %w", req.Op, err)
	}
	if resp.NotRunning {
		return resp, ErrNotRunning
	}
	if resp.Error != "" {
		return resp, fmt.Errorf("shim: %s: %s", req.Op, resp.Error)
	}
	return resp, nil
}
