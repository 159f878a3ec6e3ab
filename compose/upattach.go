package compose

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/spec"
)

// attachFlags are up's flags about the attached log stream and what ends it.
type attachFlags struct {
	abortOnExit    bool
	abortOnFailure bool
	exitCodeFrom   string
	attach         []string
	noAttach       []string
	dependencies   bool
	printer        printerOptions
	noDeps         bool // up --no-deps: the named services come up alone
}

func (a *attachFlags) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&a.abortOnExit, "abort-on-container-exit", false, "stops all containers if any container was stopped; incompatible with -d")
	f.BoolVar(&a.abortOnFailure, "abort-on-container-failure", false, "stops all containers if any container exited with failure; incompatible with -d")
	f.StringVar(&a.exitCodeFrom, "exit-code-from", "", "return the exit code of the selected service container; implies --abort-on-container-exit")
	f.StringArrayVar(&a.attach, "attach", nil, "restrict attaching to the specified services; incompatible with --attach-dependencies")
	f.StringArrayVar(&a.noAttach, "no-attach", nil, "do not attach (stream logs) to the specified services")
	f.BoolVar(&a.dependencies, "attach-dependencies", false, "automatically attach to log output of dependent services")
	f.BoolVar(&a.printer.timestamps, "timestamps", false, "show timestamps")
	f.BoolVar(&a.printer.noPrefix, "no-log-prefix", false, "don't print prefix in logs")
	f.BoolVar(&a.printer.noColor, "no-color", false, "produce monochrome output")
}

// options resolves the flags against project p for up of services (all
// when empty), checking the services they name.
func (a attachFlags) options(p *spec.Project, services []string, timeout *time.Duration) (attachOptions, error) {
	if a.exitCodeFrom != "" {
		if _, ok := p.Service(a.exitCodeFrom); !ok {
			return attachOptions{}, fmt.Errorf("no such service: %s", a.exitCodeFrom)
		}
	}
	o := attachOptions{services: services, exitCodeFrom: a.exitCodeFrom, timeout: timeout, printer: a.printer}
	switch {
	case a.abortOnExit:
		o.onExit = cascadeStop
	case a.abortOnFailure:
		o.onExit = cascadeFail
	}
	show, err := a.shown(p, services)
	if err != nil {
		return attachOptions{}, err
	}
	for _, name := range show {
		if !slices.Contains(a.noAttach, name) {
			o.show = append(o.show, name)
		}
	}
	o.monitor = services
	if len(o.monitor) == 0 {
		o.monitor = o.show
	}
	return o, nil
}

// shown are the services whose logs attached up shows, before
// --no-attach, as Docker Compose picks them: those named with --attach
// (which must be brought up), else those brought up (all when none is
// named; with --attach-dependencies, what they depend on too) except those
// with attach: false.
func (a attachFlags) shown(p *spec.Project, services []string) ([]string, error) {
	up := withDependencies(p, services)
	if a.noDeps && len(services) > 0 {
		up = services
	}
	if len(a.attach) > 0 {
		var unknown []string
		for _, name := range a.attach {
			if !slices.Contains(up, name) {
				unknown = append(unknown, name)
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("cannot attach to services not included in up: %s", strings.Join(unknown, ", "))
		}
		return a.attach, nil
	}
	if len(services) > 0 && !a.dependencies {
		up = services
	}
	var out []string
	for _, name := range up {
		if svc, ok := p.Service(name); ok && !svc.NoAttach {
			out = append(out, name)
		}
	}
	return out, nil
}

// withDependencies are services and, transitively, what they depend on,
// in project order: all of p's services when services is empty.
func withDependencies(p *spec.Project, services []string) []string {
	want := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		svc, ok := p.Service(name)
		if !ok || want[name] {
			return
		}
		want[name] = true
		for dep := range svc.DependsOn {
			visit(dep)
		}
	}
	for _, name := range services {
		visit(name)
	}
	var out []string
	for _, svc := range p.Services {
		if len(services) == 0 || want[svc.Name] {
			out = append(out, svc.Name)
		}
	}
	return out
}
