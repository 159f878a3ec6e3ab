package build

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/berth-dev/berth/image"
)

// defaultShell is SHELL's default on Linux.
var defaultShell = []string{"/bin/sh", "-c"}

// defaultPathEnv is the PATH BuildKit gives an image built FROM scratch.
const defaultPathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// stageConfig is what the metadata instructions of one stage change: the
// image configuration and the build-time settings beside it.
type stageConfig struct {
	cfg    image.Config
	shell  []string
	cmdSet bool // CMD was set in this stage (ENTRYPOINT then keeps it)
}

// apply records a metadata instruction (variables already expanded) as
// Docker does; it reports false for instructions that are not metadata.
func (s *stageConfig) apply(cmd instructions.Command) (bool, error) {
	c := &s.cfg
	switch cmd := cmd.(type) {
	case *instructions.EnvCommand:
		for _, kv := range cmd.Env {
			c.Env = setEnv(c.Env, kv.Key, kv.Value)
		}
	case *instructions.LabelCommand:
		labels := maps.Clone(c.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		for _, kv := range cmd.Labels {
			labels[kv.Key] = kv.Value
		}
		c.Labels = labels
	case *instructions.ExposeCommand:
		for _, p := range cmd.Ports {
			port, err := exposedPort(p)
			if err != nil {
				return true, err
			}
			c.ExposedPorts = addSorted(c.ExposedPorts, port)
		}
	case *instructions.VolumeCommand:
		for _, v := range cmd.Volumes {
			if v == "" {
				return true, fmt.Errorf("VOLUME specified can not be an empty string")
			}
			c.Volumes = addSorted(c.Volumes, v)
		}
	case *instructions.UserCommand:
		c.User = cmd.User
	case *instructions.WorkdirCommand:
		c.WorkingDir = workdir(c.WorkingDir, cmd.Path)
	case *instructions.CmdCommand:
		c.Cmd = s.commandLine(cmd.ShellDependantCmdLine)
		s.cmdSet = true
	case *instructions.EntrypointCommand:
		c.Entrypoint = s.commandLine(cmd.ShellDependantCmdLine)
		if !s.cmdSet {
			c.Cmd = nil // an inherited CMD goes with a new ENTRYPOINT
		}
	case *instructions.HealthCheckCommand:
		h := cmd.Health
		c.Healthcheck = &v1.HealthConfig{Test: slices.Clone(h.Test), Interval: h.Interval, Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
	case *instructions.StopSignalCommand:
		c.StopSignal = cmd.Signal
	case *instructions.ShellCommand:
		s.shell = slices.Clone(cmd.Shell)
		c.Shell = slices.Clone(cmd.Shell)
	case *instructions.OnbuildCommand:
		c.OnBuild = append(slices.Clone(c.OnBuild), cmd.Expression)
	case *instructions.MaintainerCommand:
		// Deprecated; Docker records it as the image's author, which
		// berth's image configuration does not carry.
	default:
		return false, nil
	}
	return true, nil
}

// commandLine is the argv of a CMD, ENTRYPOINT or RUN: the shell form runs
// through the stage's SHELL.
func (s *stageConfig) commandLine(cl instructions.ShellDependantCmdLine) []string {
	if cl.PrependShell {
		return append(slices.Clone(s.shell), strings.Join(cl.CmdLine, " "))
	}
	return slices.Clone(cl.CmdLine)
}

// setEnv sets key in env, in place of an earlier value.
func setEnv(env []string, key, value string) []string {
	out := slices.Clone(env)
	for i, kv := range out {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			out[i] = key + "=" + value
			return out
		}
	}
	return append(out, key+"="+value)
}

// workdir is WORKDIR p after cur: relative paths are joined onto it.
func workdir(cur, p string) string {
	if !path.IsAbs(p) {
		if cur == "" {
			cur = "/"
		}
		p = path.Join(cur, p)
	}
	return path.Clean(p)
}

// exposedPort normalises an EXPOSE port as Docker records it: "80" is
// "80/tcp", the protocol in lower case.
func exposedPort(p string) (string, error) {
	port, proto, found := strings.Cut(p, "/")
	if !found {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if port == "" || strings.Trim(port, "0123456789-") != "" {
		return "", fmt.Errorf("invalid port %q in EXPOSE", p)
	}
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return "", fmt.Errorf("invalid protocol %q in EXPOSE %s", proto, p)
	}
	return port + "/" + proto, nil
}

// addSorted adds v to the sorted set ss.
func addSorted(ss []string, v string) []string {
	if i, found := slices.BinarySearch(ss, v); !found {
		return slices.Insert(slices.Clone(ss), i, v)
	}
	return ss
}
