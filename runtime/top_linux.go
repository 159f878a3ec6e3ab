package runtime

import "fmt"

// Processes lists the host pids of every process in container id's cgroup,
// as docker top finds them. A container that does not run has none.
func (r *Runtime) Processes(id string) ([]int, error) {
	o, err := loadOrphan(r.paths(id).stateRoot, id)
	if err != nil {
		return nil, fmt.Errorf("processes of %q: %w", id, err)
	}
	if o == nil {
		return nil, fmt.Errorf("processes of %q: %w", id, ErrNotRunning)
	}
	pids, err := o.ctr.Processes()
	if err != nil {
		return nil, fmt.Errorf("processes of %q: %w", id, err)
	}
	return pids, nil
}
