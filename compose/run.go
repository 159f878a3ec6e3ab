package compose

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mattn/go-shellwords"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// runFlags are run's flags, Docker Compose's.
type runFlags struct {
	detach, rm, noTty, tty, interactive, noDeps bool
	servicePorts, useAliases, removeOrphans     bool
	quiet, quietPull                            bool
	name, user, workdir, entrypoint, pull       string
	env, envFiles, labels, volumes, publish     []string
}

func newRunCommand(g *globals) *cobra.Command {
	var o runFlags
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] SERVICE [COMMAND] [ARGS...]",
		Short: "Run a one-off command on a service",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			switch {
			case f.Changed("tty") && f.Changed("no-tty"):
				return errors.New("--tty and --no-tty can't be used together")
			case f.Changed("tty"):
				o.noTty = !o.tty
			case !f.Changed("no-tty"):
				// Docker Compose's default: a terminal when the output is
				// one, and not when input is piped in without -i.
				o.noTty = terminalFile(cmd.OutOrStdout()) == nil ||
					!f.Changed("interactive") && terminalFile(cmd.InOrStdin()) == nil
			}
			return runRun(cmd, g, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after SERVICE belong to the command
	f.BoolVarP(&o.detach, "detach", "d", false, "run container in background and print container ID")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set environment variables")
	f.StringArrayVar(&o.envFiles, "env-from-file", nil, "set environment variables from file")
	f.StringArrayVarP(&o.labels, "label", "l", nil, "add or override a label")
	f.BoolVar(&o.rm, "rm", false, "automatically remove the container when it exits")
	f.BoolVarP(&o.noTty, "no-tty", "T", false, "disable pseudo-TTY allocation (default: auto-detected)")
	f.BoolVarP(&o.tty, "tty", "t", true, "allocate a pseudo-TTY")
	_ = f.MarkHidden("tty")
	f.BoolVarP(&o.interactive, "interactive", "i", true, "keep STDIN open even if not attached")
	f.StringVar(&o.name, "name", "", "assign a name to the container")
	f.StringVarP(&o.user, "user", "u", "", "run as specified username or uid")
	f.StringVarP(&o.workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVar(&o.entrypoint, "entrypoint", "", "override the entrypoint of the image")
	f.BoolVar(&o.noDeps, "no-deps", false, "don't start linked services")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind mount a volume")
	f.StringArrayVarP(&o.publish, "publish", "p", nil, "publish a container's port(s) to the host")
	f.BoolVar(&o.useAliases, "use-aliases", false, "use the service's network aliases in the network(s) the container connects to")
	f.BoolVarP(&o.servicePorts, "service-ports", "P", false, "run command with all service's ports enabled and mapped to the host")
	f.StringVar(&o.pull, "pull", "", `pull image before running ("always"|"missing"|"never")`)
	f.BoolVarP(&o.quiet, "quiet", "q", false, "don't print anything to STDOUT")
	f.BoolVar(&o.quietPull, "quiet-pull", false, "pull without printing progress information")
	f.BoolVar(&o.removeOrphans, "remove-orphans", false, "remove containers for services not defined in the compose file")
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name { // Docker Compose's other spellings
		case "volumes":
			name = "volume"
		case "labels":
			name = "label"
		case "no-TTY":
			name = "no-tty"
		}
		return pflag.NormalizedName(name)
	})
	return cmd
}

// overrides translates run's flags into what they change in the service.
func (o runFlags) overrides(cmd *cobra.Command, command []string) (spec.RunOverrides, error) {
	if o.servicePorts && len(o.publish) > 0 {
		return spec.RunOverrides{}, errors.New("--service-ports and --publish are incompatible")
	}
	ro := spec.RunOverrides{Command: command, Environment: o.env, EnvFiles: o.envFiles, User: o.user, WorkingDir: o.workdir,
		ServicePorts: o.servicePorts, Publish: o.publish, Volumes: o.volumes, UseAliases: o.useAliases,
		Tty: !o.noTty, StdinOpen: o.interactive}
	if cmd.Flags().Changed("entrypoint") {
		entry, err := shellwords.Parse(o.entrypoint)
		if err != nil {
			return ro, fmt.Errorf("--entrypoint: %w", err)
		}
		ro.Entrypoint = append([]string{}, entry...)
	}
	for _, kv := range o.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return ro, fmt.Errorf("--label %q: label must be set as KEY=VALUE", kv)
		}
		if ro.Labels == nil {
			ro.Labels = map[string]string{}
		}
		ro.Labels[k] = v
	}
	return ro, nil
}

func runRun(cmd *cobra.Command, g *globals, o runFlags, service string, command []string) error {
	ctx := cmd.Context()
	if o.detach && o.rm {
		return errors.New("--rm with --detach is not supported yet: nothing would be left to remove the container when it exits")
	}
	tty := !o.noTty && !o.detach
	in := terminalFile(cmd.InOrStdin())
	if tty && o.interactive && in == nil {
		return errors.New("the input device is not a TTY")
	}
	ro, err := o.overrides(cmd, command)
	if err != nil {
		return err
	}
	progressOut := cmd.ErrOrStderr()
	if o.quiet {
		progressOut = io.Discard
	}
	out := newProgress(progressOut)
	create := createOptions{pull: o.pull, quietPull: o.quietPull || o.quiet}
	s, err := create.open(ctx, g, out)
	if err != nil {
		return err
	}
	defer s.close()
	svc, err := s.project.RunService(service, ro)
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = oneOffName(s.project.Name, service)
	}
	run := reconcile.RunOptions{Service: svc, Name: name, NoDeps: o.noDeps, RemoveOrphans: o.removeOrphans}
	plan, err := reconcile.ConvergeRun(ctx, s.project, s.engine, drivers(s.engine), run, out.event)
	warn(out, plan)
	if err != nil {
		if o.rm { // what was made of the one-off goes, as with docker run --rm
			_ = s.run(context.WithoutCancel(ctx), out, removeOneOff(s, name))
		}
		return err
	}
	if currentDryRun {
		return nil // the plan was shown; there is no container to attach to
	}
	s.unlock() // the one-off runs on: let other berth commands work on the project
	s.unlock = func() {}
	if o.detach {
		views, err := s.engine.Containers(ctx, s.project.Name, []string{service}, false)
		if err != nil {
			return err
		}
		for _, v := range views {
			if v.Name == name {
				fmt.Fprintln(cmd.OutOrStdout(), v.ID)
			}
		}
		return nil
	}
	code, err := attachTo(cmd, s.engine, name, streams{stdin: o.interactive, tty: tty, detachKeys: defaultDetachKeys, sigProxy: true, replay: true})
	if errors.Is(err, engine.ErrDetached) {
		return nil // ctrl-p ctrl-q: the container runs on, as with Docker
	}
	if err != nil {
		return err
	}
	if o.rm {
		ctx := context.WithoutCancel(ctx)
		unlock, err := s.engine.LockProject(ctx, s.project.Name)
		if err != nil {
			return err
		}
		err = s.run(ctx, out, removeOneOff(s, name))
		unlock()
		if err != nil {
			return err
		}
	}
	return exitStatus(code)
}

// removeOneOff plans run --rm: the one-off container and its anonymous
// volumes go, once it has exited.
func removeOneOff(s *session, name string) func(reconcile.Observed) (reconcile.Plan, error) {
	return func(obs reconcile.Observed) (reconcile.Plan, error) {
		return reconcile.PlanRemoveOneOff(s.project, obs, name)
	}
}

// oneOffName is Docker Compose's name of a one-off container:
// <project>-<service>-run-<12 random hex digits> (spec.Separator between).
func oneOffName(project, service string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return strings.Join([]string{project, service, "run", hex.EncodeToString(b[:])}, spec.Separator)
}
