package compose

import (
	"fmt"
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
}

func (a *attachFlags) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&a.abortOnExit, "abort-on-container-exit", false, "stops all containers if any container was stopped; incompatible with -d")
	f.BoolVar(&a.abortOnFailure, "abort-on-container-failure", false, "stops all containers if any container exited with failure; incompatible with -d")
	f.StringVar(&a.exitCodeFrom, "exit-code-from", "", "return the exit code of the selected service container; implies --abort-on-container-exit")
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
	o.show = services
	if len(o.show) == 0 {
		o.show = projectServices(p)
	}
	o.monitor = services
	if len(o.monitor) == 0 {
		o.monitor = o.show
	}
	return o, nil
}

// projectServices are p's services' names, in project order.
func projectServices(p *spec.Project) []string {
	out := make([]string, len(p.Services))
	for i, s := range p.Services {
		out[i] = s.Name
	}
	return out
}
