package spec

import (
	"github.com/compose-spec/compose-go/v2/types"
)

// Hook is one post_start or pre_stop lifecycle hook: a command Compose
// runs in the container, as docker exec would, right after its start or
// right before its stop.
type Hook struct {
	Command     []string          `json:"command,omitempty"`
	User        string            `json:"user,omitempty"`        // "": the container's
	Privileged  bool              `json:"privileged,omitempty"`  // every capability
	WorkingDir  string            `json:"working_dir,omitempty"` // "": the container's
	Environment map[string]string `json:"environment,omitempty"` // over the container's
}

// convertHooks converts a service's post_start or pre_stop hooks; a hook
// without a command is invalid.
func convertHooks(hooks []types.ServiceHook, ps *problems, path []string) []Hook {
	var out []Hook
	for _, h := range hooks {
		if len(h.Command) == 0 {
			ps.invalid(path[len(path)-1]+" hook has no command", path...)
			continue
		}
		hook := Hook{Command: []string(h.Command), User: h.User, Privileged: h.Privileged, WorkingDir: h.WorkingDir}
		for k, v := range h.Environment {
			if v != nil {
				if hook.Environment == nil {
					hook.Environment = map[string]string{}
				}
				hook.Environment[k] = *v
			}
		}
		out = append(out, hook)
	}
	return out
}
