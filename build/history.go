package build

import (
	"fmt"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/berth-dev/berth/image"
)

// historyComment is the comment BuildKit's Dockerfile frontend puts on
// the history entries it writes; berth writes the same.
const historyComment = "buildkit.dockerfile.v0"

// createdBy is the created_by of the history entry of cmd (its variables
// expanded, already applied to r), as BuildKit writes it: "RUN /bin/sh
// -c make # buildkit", "COPY --chown=1 a b /dst # buildkit", "ENV A=1",
// `CMD ["sh"]`… runArgv is a RUN's command line. It reports false for an
// instruction BuildKit records no entry for (ONBUILD).
func createdBy(cmd instructions.Command, r *stageResult, runArgv []string) (string, bool) {
	cfg := &r.conf.cfg
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		return "RUN " + runCommandString(runArgv, r) + " # buildkit", true
	case *instructions.CopyCommand:
		return copyMessage("COPY", c.Chown, c.Chmod, c.SourcesAndDest), true
	case *instructions.AddCommand:
		return copyMessage("ADD", c.Chown, c.Chmod, c.SourcesAndDest), true
	case *instructions.EnvCommand:
		return "ENV" + pairs(c.Env), true
	case *instructions.LabelCommand:
		return "LABEL" + pairs(c.Labels), true
	case *instructions.WorkdirCommand:
		return "WORKDIR " + cfg.WorkingDir, true
	case *instructions.UserCommand:
		return "USER " + c.User, true
	case *instructions.CmdCommand:
		return fmt.Sprintf("CMD %q", cfg.Cmd), true
	case *instructions.EntrypointCommand:
		return fmt.Sprintf("ENTRYPOINT %q", cfg.Entrypoint), true
	case *instructions.HealthCheckCommand:
		h := cfg.Healthcheck
		return fmt.Sprintf("HEALTHCHECK {Test:%v Interval:%v Timeout:%v StartPeriod:%v StartInterval:%v Retries:%d}", h.Test, h.Interval, h.Timeout, h.StartPeriod, c.Health.StartInterval, h.Retries), true
	case *instructions.ExposeCommand:
		ports := make([]string, 0, len(c.Ports))
		for _, p := range c.Ports {
			if n, err := exposedPort(p); err == nil {
				ports = append(ports, n)
			}
		}
		return fmt.Sprintf("EXPOSE %v", ports), true
	case *instructions.VolumeCommand:
		return fmt.Sprintf("VOLUME %v", c.Volumes), true
	case *instructions.StopSignalCommand:
		return "STOPSIGNAL " + c.Signal, true
	case *instructions.ShellCommand:
		return fmt.Sprintf("SHELL %v", c.Shell), true
	case *instructions.MaintainerCommand:
		return "MAINTAINER " + c.Maintainer, true
	case *instructions.ArgCommand:
		strs := make([]string, 0, len(c.Args))
		for _, a := range c.Args {
			s := a.Key
			if v, ok := r.args[a.Key]; ok {
				s += "=" + v
			}
			strs = append(strs, s)
		}
		return "ARG " + strings.Join(strs, " "), true
	case *instructions.OnbuildCommand:
		return "", false
	}
	return strings.ToUpper(cmd.Name()), true
}

// runCommandString is a RUN's command line after the ARGs of the stage,
// "|2 A=1 B=2 /bin/sh -c make", as BuildKit records it (an ARG's value
// as the RUN sees it, ENV first).
func runCommandString(argv []string, r *stageResult) string {
	var kv []string
	for _, k := range r.argKeys {
		v, _ := r.scope().Get(k)
		kv = append(kv, k+"="+v)
	}
	if len(kv) > 0 {
		kv = append([]string{fmt.Sprintf("|%d", len(kv))}, kv...)
	}
	return strings.Join(append(kv, argv...), " ")
}

// copyMessage is the created_by of a COPY or ADD (its --from is not in
// it, as in BuildKit's).
func copyMessage(name, chown, chmod string, sd instructions.SourcesAndDest) string {
	var b strings.Builder
	b.WriteString(name)
	if chown != "" {
		b.WriteString(" --chown=" + chown)
	}
	if chmod != "" {
		b.WriteString(" --chmod=" + chmod)
	}
	for _, s := range sd.SourcePaths {
		b.WriteString(" " + s)
	}
	for _, s := range sd.SourceContents {
		b.WriteString(" <<" + s.Path)
	}
	b.WriteString(" " + sd.DestPath + " # buildkit")
	return b.String()
}

// pairs is " K=V K2=V2" of ENV or LABEL.
func pairs(kvs instructions.KeyValuePairs) string {
	var b strings.Builder
	for _, kv := range kvs {
		b.WriteString(" " + kv.String())
	}
	return b.String()
}

// fillHistoryTimes gives the entries without a time (metadata steps) one
// as BuildKit's exporter does: the time of the last step with a layer
// before them, or of the first such step of the build when none came
// before it since the base.
func fillHistoryTimes(h []image.History) {
	var created time.Time
	sawZero := false
	for _, e := range h {
		if !e.Created.IsZero() {
			created = e.Created
			if sawZero {
				break
			}
		} else {
			sawZero = true
		}
	}
	sawZero = false
	for i := range h {
		if !h[i].Created.IsZero() {
			if sawZero {
				created = h[i].Created
			}
			continue
		}
		sawZero = true
		h[i].Created = created
	}
}
