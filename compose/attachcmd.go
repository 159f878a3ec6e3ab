package compose

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
)

// defaultDetachKeys are Docker's: ctrl-p, ctrl-q.
var defaultDetachKeys = []byte{0x10, 0x11}

func newAttachCommand(g *globals) *cobra.Command {
	var index int
	var noStdin, sigProxy bool
	var keys string
	cmd := &cobra.Command{
		Use:   "attach [OPTIONS] SERVICE",
		Short: "Attach local standard input, output, and error streams to a service's running container",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			detach := defaultDetachKeys
			if cmd.Flags().Changed("detach-keys") {
				var err error
				if detach, err = parseDetachKeys(keys); err != nil {
					return fmt.Errorf("--detach-keys: %w", err)
				}
			}
			e, target, err := g.runningContainer(cmd.Context(), args[0], index)
			if err != nil {
				return err
			}
			defer e.Close()
			code, err := attachTo(cmd, e, target.Name, streams{stdin: !noStdin && target.OpenStdin, tty: target.Tty,
				detachKeys: detach, sigProxy: sigProxy && !target.Tty})
			if errors.Is(err, engine.ErrDetached) {
				return nil
			}
			if err != nil {
				return err
			}
			return exitStatus(code)
		},
	}
	f := cmd.Flags()
	f.IntVar(&index, "index", 0, "index of the container if service has multiple replicas")
	f.BoolVar(&noStdin, "no-stdin", false, "do not attach STDIN")
	f.BoolVar(&sigProxy, "sig-proxy", true, "proxy all received signals to the process")
	f.StringVar(&keys, "detach-keys", "ctrl-p,ctrl-q", "override the key sequence for detaching from a container")
	return cmd
}

// streams say how attachTo connects the user to a container.
type streams struct {
	stdin, tty bool
	detachKeys []byte // nil: no way to detach but the container's end
	sigProxy   bool   // pass the signals berth gets on to the container
	replay     bool   // first the output of the run so far (berth run)
}

// attachTo connects the user's terminal or streams to container name
// until it exits, and returns its exit code; engine.ErrDetached when the
// detach keys ended it.
func attachTo(cmd *cobra.Command, e *engine.Engine, name string, st streams) (int, error) {
	ao := engine.AttachOptions{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Replay: st.replay}
	if st.stdin {
		ao.Stdin = cmd.InOrStdin()
		ao.DetachKeys = st.detachKeys
	}
	if in := terminalFile(cmd.InOrStdin()); st.tty && in != nil {
		sizes, stop := followSize(in)
		defer stop()
		resize := make(chan engine.WinSize, 1)
		resize <- terminalSize(in)
		go func() {
			for sz := range sizes {
				resize <- sz
			}
		}()
		ao.Resize = resize
		if st.stdin {
			restore, err := makeRaw(in)
			if err != nil {
				return 0, err
			}
			defer restore()
		}
	}
	ctx := context.WithoutCancel(cmd.Context()) // interrupts go to the container
	if st.sigProxy {
		sigs, stop := catchSignals()
		defer stop()
		go func() {
			for s := range sigs {
				if sig, err := engine.ParseSignal(fmt.Sprint(int(s.(syscall.Signal)))); err == nil {
					_ = e.Kill(ctx, name, sig)
				}
			}
		}()
	}
	return e.Attach(ctx, name, ao)
}

// parseDetachKeys reads Docker's --detach-keys: comma-separated keys, each
// a single character or ctrl-<c> (ctrl-a to ctrl-z, ctrl-@, ctrl-[,
// ctrl-\, ctrl-], ctrl-^, ctrl-_).
func parseDetachKeys(s string) ([]byte, error) {
	var out []byte
	for _, k := range strings.Split(s, ",") {
		switch name, ok := strings.CutPrefix(strings.ToLower(k), "ctrl-"); {
		case ok && len(name) == 1 && name[0] >= 'a' && name[0] <= 'z':
			out = append(out, name[0]-'a'+1)
		case ok && len(name) == 1 && strings.Contains("@[\\]^_", name):
			out = append(out, name[0]-'@')
		case !ok && len(k) == 1:
			out = append(out, k[0])
		default:
			return nil, fmt.Errorf("invalid detach key %q (want a character or ctrl-<value>)", k)
		}
	}
	return out, nil
}
