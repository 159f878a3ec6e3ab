package kube

import (
	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// resources maps limits and reservations: cpus → limits.cpu, mem_limit →
// limits.memory, mem_reservation → requests.memory. The cgroup knobs
// Kubernetes does not expose are refused.
func (r *renderer) resources(s spec.Service) corev1.ResourceRequirements {
	var out corev1.ResourceRequirements
	res := s.Resources
	if res == nil {
		return out
	}
	at := serviceAt(s.Name)
	no := func(set bool, key string) {
		if set {
			r.refuse(key+" cannot be mapped to Kubernetes (it has cpu and memory limits and requests only)", at(key)...)
		}
	}
	no(res.CPUShares != 0, "cpu_shares")
	no(res.CPUQuota != 0 || res.CPUPeriod != 0, "cpu_quota")
	no(res.CPUSet != "", "cpuset")
	no(res.MemorySwap != 0, "memswap_limit")
	no(res.MemorySwappiness != nil, "mem_swappiness")
	no(res.PidsLimit > 0, "pids_limit")
	no(res.BlkioWeight != 0, "blkio_config")
	limits, requests := corev1.ResourceList{}, corev1.ResourceList{}
	if res.NanoCPUs > 0 {
		limits[corev1.ResourceCPU] = *resource.NewMilliQuantity(res.NanoCPUs/1e6, resource.DecimalSI)
	}
	if res.Memory > 0 {
		limits[corev1.ResourceMemory] = *resource.NewQuantity(res.Memory, resource.BinarySI)
	}
	if res.MemoryReservation > 0 {
		requests[corev1.ResourceMemory] = *resource.NewQuantity(res.MemoryReservation, resource.BinarySI)
	}
	if len(limits) > 0 {
		out.Limits = limits
	}
	if len(requests) > 0 {
		out.Requests = requests
	}
	return out
}

// hooks maps post_start and pre_stop to the container's lifecycle
// handlers (exec): one each, of a command alone, since a Kubernetes hook
// has no user, privileges, directory or environment of its own. stop_signal
// other than SIGTERM takes the preStop handler (see stopSignal).
func (r *renderer) hooks(s spec.Service) *corev1.Lifecycle {
	at := serviceAt(s.Name)
	handler := func(hooks []spec.Hook, key string) *corev1.LifecycleHandler {
		switch {
		case len(hooks) == 0:
			return nil
		case len(hooks) > 1:
			r.refuse(key+": Kubernetes runs one hook, not "+itoa(len(hooks)), at(key)...)
			return nil
		}
		h := hooks[0]
		if h.User != "" || h.Privileged || h.WorkingDir != "" || len(h.Environment) > 0 {
			r.refuse(key+": a Kubernetes hook runs a command only (no user, privileged, working_dir or environment)", at(key)...)
		}
		cmd := make([]string, len(h.Command))
		for i, a := range h.Command {
			cmd[i] = escape(a)
		}
		return &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: cmd}}
	}
	l := &corev1.Lifecycle{PostStart: handler(s.PostStart, "post_start"), PreStop: handler(s.PreStop, "pre_stop")}
	if sig := r.stopSignal(s); sig != nil {
		if l.PreStop != nil {
			r.refuse("stop_signal and pre_stop both need the preStop hook on Kubernetes", at("stop_signal")...)
		}
		l.PreStop = sig.PreStop
	}
	if l.PostStart == nil && l.PreStop == nil {
		return nil
	}
	return l
}
