package kube

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/spec"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Workload kinds a service maps to.
const (
	kindDeployment  = "Deployment"
	kindStatefulSet = "StatefulSet"
	kindJob         = "Job"
)

// serviceAt is the model path of a key of service name.
func serviceAt(name string) func(keys ...string) []string {
	return func(keys ...string) []string { return append([]string{"services", name}, keys...) }
}

// workloadKind is what a service runs as: x-kube.kind when given, else a
// Deployment for a service Kubernetes may restart forever (restart:
// always or unless-stopped) and a Job for a one-shot (restart: "no" or
// on-failure).
func (r *renderer) workloadKind(s spec.Service) string {
	at := serviceAt(s.Name)
	kind := r.extension("services", s.Name, "kind")["kind"]
	switch kind {
	case "":
		if s.Restart == "always" || s.Restart == "unless-stopped" {
			return kindDeployment
		}
		return kindJob
	case kindDeployment, kindJob:
		return kind
	case kindStatefulSet:
		named := false
		for _, m := range s.Mounts {
			named = named || (m.Type == spec.MountVolume && m.Source != "")
		}
		if !named || s.Scale != 1 {
			r.refuse("x-kube.kind StatefulSet needs one replica and a named volume", at(ExtensionKey, "kind")...)
		}
		return kind
	}
	r.refuse(fmt.Sprintf("x-kube.kind %q must be Deployment, StatefulSet or Job", kind), at(ExtensionKey, "kind")...)
	return kindDeployment
}

// service renders one service: its workload and its Services.
func (r *renderer) service(s spec.Service) {
	at := serviceAt(s.Name)
	if errs := validation.IsDNS1035Label(s.Name); len(errs) > 0 {
		r.refuse(fmt.Sprintf("the service name is not a Kubernetes service name: %s", strings.Join(errs, "; ")), at()...)
		return
	}
	kind := r.kinds[s.Name]
	ports := r.ports[s.Name]
	pod := r.podTemplate(s, ports)
	meta := r.meta(s.Name, s.Name)
	for k, v := range s.Labels {
		meta.Labels[k] = v
	}
	sel := &metav1.LabelSelector{MatchLabels: r.selector(s.Name)}
	replicas := int32(s.Scale)
	switch kind {
	case kindDeployment:
		strategy, minReady := r.strategy(s)
		r.add(newObject(&appsv1.Deployment{TypeMeta: typeMeta("apps/v1", kind), ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: sel, Template: pod, Strategy: strategy, MinReadySeconds: minReady}}))
	case kindStatefulSet:
		r.refuseUpdate(s, kind)
		r.add(newObject(&appsv1.StatefulSet{TypeMeta: typeMeta("apps/v1", kind), ObjectMeta: meta,
			Spec: appsv1.StatefulSetSpec{Replicas: &replicas, Selector: sel, Template: pod, ServiceName: s.Name}}))
	case kindJob:
		r.refuseUpdate(s, kind)
		r.add(newObject(&batchv1.Job{TypeMeta: typeMeta("batch/v1", kind), ObjectMeta: meta, Spec: r.jobSpec(s, pod)}))
	}
	r.refuseRestartTiming(s)
	r.services(s, ports)
}

// refuseRestartTiming refuses deploy.restart_policy's delay and window:
// the kubelet restarts a pod's containers with its own crash-loop
// back-off, and a Job counts every failure toward its backoffLimit, so
// neither a fixed delay nor a window of counted attempts can be honoured.
func (r *renderer) refuseRestartTiming(s spec.Service) {
	at := serviceAt(s.Name)
	if s.RestartDelay != nil {
		r.refuse("deploy.restart_policy.delay: Kubernetes restarts with the kubelet's own back-off, not a fixed delay", at("deploy", "restart_policy", "delay")...)
	}
	if s.RestartWindow != nil {
		r.refuse("deploy.restart_policy.window: a Job counts every failure toward its backoffLimit, not those within a window", at("deploy", "restart_policy", "window")...)
	}
}

// jobSpec runs a one-shot service once (restart: "no") or until it
// succeeds (on-failure[:N], N retries).
func (r *renderer) jobSpec(s spec.Service, pod corev1.PodTemplateSpec) batchv1.JobSpec {
	at := serviceAt(s.Name)
	if s.Scale < 1 {
		r.refuse("a one-shot service (a Job) needs at least one replica", at("scale")...)
	}
	n := int32(max(s.Scale, 1))
	backoff := int32(0)
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	if rest, ok := strings.CutPrefix(s.Restart, "on-failure"); ok {
		pod.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		backoff = 6 // Kubernetes' default where Compose retries forever
		if tries, err := strconv.Atoi(strings.TrimPrefix(rest, ":")); err == nil {
			backoff = int32(tries)
		}
	}
	return batchv1.JobSpec{Parallelism: &n, Completions: &n, BackoffLimit: &backoff, Template: pod}
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}
