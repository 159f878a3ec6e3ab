package kube

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/berth-dev/berth/spec"
)

// strategy maps deploy.update_config to a Deployment's strategy and
// minReadySeconds. start-first adds up to parallelism new pods before old
// ones go (RollingUpdate, maxSurge, maxUnavailable 0; parallelism 0 is all
// of them, 100%); stop-first takes up to parallelism old pods away before
// new ones come (maxSurge 0, maxUnavailable), and all of them, as Compose
// does without parallelism, is Recreate: every old pod is gone before a
// new one starts (a rolling update of 100% would start new pods while old
// ones still terminate, with their volumes). delay is minReadySeconds: the next
// batch starts when the last one has been ready that long. A failed
// rollout is not rolled back by the cluster (it stops, Progressing false,
// the old pods kept as maxUnavailable allows), so failure_action rollback
// is refused. Without update_config the Deployment keeps Kubernetes'
// default (a rolling update, 25% surge and 25% unavailable).
func (r *renderer) strategy(s spec.Service) (appsv1.DeploymentStrategy, int32) {
	u := s.Update
	if u == nil {
		return appsv1.DeploymentStrategy{}, 0
	}
	at := serviceAt(s.Name)
	batch := intstr.FromString("100%")
	if u.Parallelism > 0 {
		batch = intstr.FromInt32(int32(u.Parallelism))
	}
	zero := intstr.FromInt32(0)
	st := appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &batch}}
	switch {
	case u.Order == spec.StartFirst:
		st.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &batch, MaxUnavailable: &zero}
	case u.Parallelism == 0:
		st = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	if u.FailureAction == "rollback" {
		r.refuse("deploy.update_config.failure_action rollback cannot be mapped to Kubernetes: a Deployment does not roll back a failed rollout, it stops it (leave failure_action out: the old pods keep serving, and up --kube --wait fails naming the rollout)",
			at("deploy", "update_config", "failure_action")...)
	}
	if u.Delay%time.Second != 0 {
		r.refuse(fmt.Sprintf("deploy.update_config.delay %s: it maps to minReadySeconds, which counts whole seconds", u.Delay),
			at("deploy", "update_config", "delay")...)
	}
	return st, int32(u.Delay / time.Second)
}

// refuseUpdate refuses update_config of a service that is not a
// Deployment: a Job is replaced whole, and a StatefulSet of one replica
// has no batches.
func (r *renderer) refuseUpdate(s spec.Service, kind string) {
	if s.Update != nil {
		r.refuse(fmt.Sprintf("deploy.update_config maps to a Deployment's strategy, and this service is a %s", kind),
			serviceAt(s.Name)("deploy", "update_config")...)
	}
}
