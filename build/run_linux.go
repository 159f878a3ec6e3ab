package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/berth-dev/berth/image"
	berthrt "github.com/berth-dev/berth/runtime"
)

// run runs a RUN in a container over the stage's layers, with its ENV,
// ARGs, USER and WORKDIR, its --mount flags, and the network
// Options.Network gives (by default none but loopback).
func (b *builder) run(ctx context.Context, r *stageResult, c *instructions.RunCommand, text string) (bool, []string, error) {
	for _, flag := range c.FlagsUsed {
		if flag != "mount" {
			return false, nil, fmt.Errorf("RUN --%s: %w", flag, ErrUnsupported)
		}
	}
	mounts, err := b.runMounts(c)
	if err != nil {
		return false, nil, err
	}
	argv, script, err := runArgv(r.conf, c)
	if err != nil {
		return false, nil, err
	}
	key, err := stepKey(r.key, c, r.conf, r.scope(), text) // the text holds the --mount flags
	if err != nil {
		return false, nil, err
	}
	return b.fsStep(ctx, r, key, text, func() (*image.Layer, []string, error) {
		out := lines{emit: func(line string) {
			b.emit(Event{Step: b.step, Stage: stageName(b.df.stages, r.index), Instruction: text, Line: line})
		}}
		cfg := berthrt.Config{Args: argv, Env: append(proxyArgs(b.o.Args), r.scope().runEnv()...), Cwd: r.conf.cfg.WorkingDir, User: r.conf.cfg.User, Hostname: "buildkitsandbox", Mounts: mounts}
		cfg.Security.ShmSize = b.o.ShmSize
		if b.o.Network != nil {
			n, err := b.o.Network(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("setting up the RUN's network: %w", err)
			}
			if n.Release != nil {
				defer n.Release()
			}
			cfg.NetNS = n.NetNS
			for target, src := range map[string]string{"/etc/resolv.conf": n.ResolvConf, "/etc/hosts": n.Hosts} {
				if src != "" {
					cfg.Mounts = append(cfg.Mounts, berthrt.Mount{Type: "bind", Source: src, Target: target, ReadOnly: true})
				}
			}
		}
		if script != nil {
			m, err := b.scriptMount(*script)
			if err != nil {
				return nil, nil, err
			}
			cfg.Mounts = append(cfg.Mounts, m)
		}
		cfg.Replayed = true // the step's output is read from its start (waitRun)
		l, err := b.inContainer(ctx, r, cfg, func(cfg berthrt.Config) error {
			if err := b.rt.Start(ctx, cfg); err != nil {
				return err
			}
			code, err := b.waitRun(ctx, cfg.ID, &out)
			if err != nil {
				return err
			}
			if code != 0 {
				return fmt.Errorf("%w: process %q did not complete successfully: exit code: %d%s", ErrStepFailed, strings.Join(argv, " "), code, lastLines(out.done(), 5))
			}
			return nil
		})
		return l, out.done(), err
	})
}

// runArgv is a RUN's argv, as BuildKit makes it: a lone heredoc runs its
// content through the SHELL, or, starting with #!, as a script file
// (returned, to be mounted at its argv[0]); other heredocs are given to
// the shell with the command line.
func runArgv(conf stageConfig, c *instructions.RunCommand) ([]string, *instructions.ShellInlineFile, error) {
	if len(c.Files) == 0 {
		return conf.commandLine(c.ShellDependantCmdLine), nil, nil
	}
	args := c.CmdLine
	if len(args) != 1 || !c.PrependShell {
		return nil, nil, fmt.Errorf("a RUN heredoc in exec form: %w", ErrUnsupported)
	}
	if h := parser.MustParseHeredoc(args[0]); h != nil {
		f := c.Files[0]
		if f.Chomp {
			f.Data = parser.ChompHeredocContent(f.Data)
		}
		if strings.HasPrefix(f.Data, "#!") {
			return []string{path.Join(scriptDir, f.Name)}, &f, nil
		}
		return append(slices.Clone(conf.shell), f.Data), nil, nil
	}
	var sb strings.Builder
	sb.WriteString(args[0])
	for _, f := range c.Files {
		sb.WriteString("\n" + f.Data + f.Name)
	}
	return append(slices.Clone(conf.shell), sb.String()), nil, nil
}

// scriptDir is where a RUN's #! heredoc is mounted, as in BuildKit.
const scriptDir = "/dev/pipes"

// scriptMount writes a #! heredoc to a file of the build's temporary
// directory and returns its read-only bind mount.
func (b *builder) scriptMount(f instructions.ShellInlineFile) (berthrt.Mount, error) {
	dir, err := b.tempDir()
	if err != nil {
		return berthrt.Mount{}, err
	}
	p, err := os.CreateTemp(dir, "script-")
	if err != nil {
		return berthrt.Mount{}, fmt.Errorf("writing the heredoc script: %w", err)
	}
	_, werr := p.WriteString(f.Data)
	if err := errors.Join(werr, p.Chmod(0o755), p.Close()); err != nil {
		return berthrt.Mount{}, fmt.Errorf("writing the heredoc script: %w", err)
	}
	return berthrt.Mount{Type: "bind", Source: p.Name(), Target: path.Join(scriptDir, f.Name), ReadOnly: true}, nil
}

// waitRun streams the output of the started container id to out until
// it exits and returns its exit code. An attach that comes as the
// container's shim is shutting down finds it neither running nor yet
// exited (ErrNotAttachable); it is tried again until the exit is
// recorded, and then replays the whole log.
func (b *builder) waitRun(ctx context.Context, id string, out io.Writer) (int, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, err := b.rt.Attach(ctx, id, berthrt.AttachOptions{Stdout: out, Stderr: out, Replay: true})
		if !errors.Is(err, berthrt.ErrNotAttachable) || time.Now().After(deadline) {
			return code, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// lines collects a RUN's output lines.
type lines struct {
	emit    func(string) // called with each complete line
	mu      sync.Mutex
	partial string
	all     []string
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.partial + string(p)
	parts := strings.Split(s, "\n")
	for _, line := range parts[:len(parts)-1] {
		l.all = append(l.all, line)
		if l.emit != nil {
			l.emit(line)
		}
	}
	l.partial = parts[len(parts)-1]
	return len(p), nil
}

func (l *lines) done() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.partial != "" {
		l.all = append(l.all, l.partial)
		if l.emit != nil {
			l.emit(l.partial)
		}
		l.partial = ""
	}
	return l.all
}

// lastLines is the end of a failed RUN's output, for its error.
func lastLines(all []string, n int) string {
	if len(all) == 0 {
		return ""
	}
	return "\n" + strings.Join(all[max(0, len(all)-n):], "\n")
}
