package compose

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/engine"
)

// execFlags are exec's flags, Docker Compose's.
type execFlags struct {
	detach, noTty, privileged, interactive bool
	env                                    []string
	index                                  int
	user, workdir                          string
}

func newExecCommand(g *globals) *cobra.Command {
	var o execFlags
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] SERVICE COMMAND [ARGS...]",
		Short: "Execute a command in a running container",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("no-tty") {
				// Docker Compose's default: a terminal when the output is one.
				o.noTty = terminalFile(cmd.OutOrStdout()) == nil
			}
			return runExec(cmd, g, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after SERVICE belong to the command
	f.BoolVarP(&o.detach, "detach", "d", false, "detached mode: run the command in the background")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set environment variables (KEY=VALUE, or KEY to take it from this environment)")
	f.IntVar(&o.index, "index", 0, "index of the container if the service has several replicas")
	f.BoolVar(&o.privileged, "privileged", false, "give extended privileges to the process")
	f.StringVarP(&o.user, "user", "u", "", "run the command as this user")
	f.BoolVarP(&o.noTty, "no-tty", "T", false, "disable pseudo-TTY allocation (default: a TTY when the output is a terminal)")
	f.StringVarP(&o.workdir, "workdir", "w", "", "path to the working directory for this command")
	f.BoolVarP(&o.interactive, "interactive", "i", true, "keep STDIN open even if not attached")
	f.BoolP("tty", "t", true, "allocate a pseudo-TTY")
	_ = f.MarkHidden("interactive")
	_ = f.MarkHidden("tty")
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "no-TTY" { // Docker Compose's legacy spelling
			name = "no-tty"
		}
		return pflag.NormalizedName(name)
	})
	return cmd
}

func runExec(cmd *cobra.Command, g *globals, o execFlags, service string, command []string) error {
	ctx := cmd.Context()
	tty := !o.noTty && !o.detach
	in := terminalFile(cmd.InOrStdin())
	if tty && o.interactive && in == nil {
		return errors.New("the input device is not a TTY")
	}
	e, target, err := g.runningContainer(ctx, service, o.index)
	if err != nil {
		return err
	}
	defer e.Close()
	eo := engine.ExecOptions{Args: command, Env: resolveEnv(o.env), User: o.user, WorkingDir: o.workdir,
		Privileged: o.privileged, Tty: tty, Detach: o.detach}
	if !o.detach {
		if o.interactive {
			eo.Stdin = cmd.InOrStdin()
		}
		eo.Stdout, eo.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
		sigs, stop := catchSignals()
		defer stop()
		eo.Signals = sigs
	}
	if tty {
		screen := terminalFile(cmd.OutOrStdout())
		if screen == nil {
			screen = in
		}
		if screen != nil {
			eo.Size = terminalSize(screen)
			sizes, stop := followSize(screen)
			defer stop()
			eo.Resize = sizes
		}
		if in != nil {
			restore, err := makeRaw(in)
			if err != nil {
				return err
			}
			defer restore()
		}
	}
	// Interrupts reach the process through Signals; the command's context
	// ends on them too, and must not kill it.
	code, err := e.Exec(context.WithoutCancel(ctx), target.Name, eo)
	if err != nil {
		return err
	}
	return exitStatus(code)
}

// resolveEnv completes each bare KEY of -e with its value here, as Docker
// does; a KEY unset here stays bare, and so is removed in the container.
func resolveEnv(env []string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		out[i] = kv
		if v, ok := os.LookupEnv(kv); ok && !strings.Contains(kv, "=") {
			out[i] = kv + "=" + v
		}
	}
	return out
}
