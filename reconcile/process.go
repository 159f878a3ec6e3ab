package reconcile

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-dev/berth/spec"
)

// ImageConfig is what of a local image's configuration decides how its
// containers run.
type ImageConfig struct {
	Entrypoint, Cmd, Env         []string
	WorkingDir, User, StopSignal string
	Volumes                      []string          // VOLUME paths, sorted
	Healthcheck                  *spec.Healthcheck // its HEALTHCHECK, nil for none
}

// Process is what a container runs: the service's settings merged over
// its image's configuration, by Docker's rules. The hostname (and so the
// HOSTNAME variable) comes from the container's ID, made at its creation.
type Process struct {
	Args        []string          `json:"args"`
	Env         []string          `json:"env"`
	WorkingDir  string            `json:"working_dir"`
	User        string            `json:"user,omitempty"`
	StopSignal  string            `json:"stop_signal,omitempty"`
	Healthcheck *spec.Healthcheck `json:"healthcheck,omitempty"`
}

// ErrNoCommand is the error of a service whose image has no ENTRYPOINT or
// CMD and which sets no command itself.
var ErrNoCommand = errors.New("no command specified")

// DefaultPath is Docker's PATH for containers whose image sets none.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// MergeProcess merges service svc over its image's configuration img as
// Docker does: a service entrypoint drops the image's CMD unless the
// service also gives a command; the service's environment overrides the
// image's, which overrides Docker's PATH; working_dir, user, stop_signal
// and healthcheck each win over the image's when set.
func MergeProcess(svc spec.Service, img ImageConfig) (Process, error) {
	entry, cmd := EntrypointAndCmd(svc, img)
	args := append(append([]string{}, entry...), cmd...)
	if len(args) == 0 {
		return Process{}, fmt.Errorf("service %q: %w: the image %s has no CMD or ENTRYPOINT and the service sets no command", svc.Name, ErrNoCommand, svc.Image)
	}
	p := Process{Args: args, Env: mergeEnv(img.Env, svc.Environment), WorkingDir: first(svc.WorkingDir, img.WorkingDir, "/"),
		User: first(svc.User, img.User), StopSignal: first(svc.StopSignal, img.StopSignal), Healthcheck: svc.Healthcheck}
	if p.Healthcheck == nil {
		p.Healthcheck = img.Healthcheck
	}
	return p, nil
}

// EntrypointAndCmd are the entrypoint and command of a container of svc,
// as Docker's Config shows them: a service entrypoint drops the image's
// CMD unless the service also gives a command.
func EntrypointAndCmd(svc spec.Service, img ImageConfig) (entry, cmd []string) {
	entry, cmd = img.Entrypoint, img.Cmd
	if svc.Entrypoint != nil {
		entry, cmd = svc.Entrypoint, nil
	}
	if svc.Command != nil {
		cmd = svc.Command
	}
	return entry, cmd
}

// mergeEnv is Docker's PATH overridden by the image's environment,
// overridden by the service's (sorted by name after the image's order).
func mergeEnv(image []string, service map[string]string) []string {
	var env []string
	index := map[string]int{}
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			env[i] = kv
			return
		}
		index[k] = len(env)
		env = append(env, kv)
	}
	set(DefaultPath)
	for _, kv := range image {
		set(kv)
	}
	keys := make([]string, 0, len(service))
	for k := range service {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k + "=" + service[k])
	}
	return env
}

// first returns the first non-empty string.
func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
