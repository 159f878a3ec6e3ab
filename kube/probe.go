package kube

import (
	"time"

	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
)

// Docker's healthcheck defaults.
const (
	defaultInterval      = 30 * time.Second
	defaultTimeout       = 30 * time.Second
	defaultStartInterval = 5 * time.Second
	defaultRetries       = 3
)

// probes maps a healthcheck to a readiness probe (healthy: ready) and a
// liveness probe with the same test, and start_period to a startup probe
// that probes every start_interval for as long as the start period lasts.
// A service without one, or with NONE, gets none.
func probes(h *spec.Healthcheck) (readiness, liveness, startup *corev1.Probe) {
	if h == nil || len(h.Test) == 0 || h.Test[0] == "NONE" {
		return nil, nil, nil
	}
	var argv []string
	switch h.Test[0] {
	case "CMD":
		argv = h.Test[1:]
	case "CMD-SHELL":
		argv = append([]string{"/bin/sh", "-c"}, h.Test[1:]...)
	default:
		return nil, nil, nil
	}
	retries := int32(h.Retries)
	if retries == 0 {
		retries = defaultRetries
	}
	probe := func() *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: argv}},
			PeriodSeconds:    seconds(h.Interval, defaultInterval, 1),
			TimeoutSeconds:   seconds(h.Timeout, defaultTimeout, 1),
			FailureThreshold: retries,
			SuccessThreshold: 1,
		}
	}
	readiness, liveness = probe(), probe()
	if h.StartPeriod > 0 {
		startup = probe()
		startup.PeriodSeconds = seconds(h.StartInterval, defaultStartInterval, 1)
		startup.FailureThreshold = max(seconds(h.StartPeriod, 0, 1)/startup.PeriodSeconds, 1) + retries
	}
	return readiness, liveness, startup
}
