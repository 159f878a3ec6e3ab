package engine

import (
	"errors"
	"sort"
	"strings"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/spec"
)

// defaultPath is Docker's PATH for containers whose image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ErrNoCommand is returned when neither the image nor the service says
// what to run.
var ErrNoCommand = errors.New("no command specified")

// processArgs merges the image's ENTRYPOINT and CMD with the service's, as
// Docker does: a service entrypoint drops the image's CMD unless the service
// also gives a command.
func processArgs(img image.Config, svc spec.Service) ([]string, error) {
	entry, cmd := img.Entrypoint, img.Cmd
	if svc.Entrypoint != nil {
		entry, cmd = svc.Entrypoint, nil
	}
	if svc.Command != nil {
		cmd = svc.Command
	}
	args := append(append([]string{}, entry...), cmd...)
	if len(args) == 0 {
		return nil, ErrNoCommand
	}
	return args, nil
}

// processEnv is the image's environment overridden by the service's, with
// HOSTNAME set and PATH defaulted, sorted by name after the image's order.
func processEnv(img image.Config, svc spec.Service, hostname string) []string {
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
	set(defaultPath)
	set("HOSTNAME=" + hostname)
	for _, kv := range img.Env {
		set(kv)
	}
	keys := make([]string, 0, len(svc.Environment))
	for k := range svc.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k + "=" + svc.Environment[k])
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
