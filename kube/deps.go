package kube

import (
	"maps"
	"slices"

	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// waits maps depends_on conditions to init containers that wait, with
// kubectl, for the dependency: service_completed_successfully for its Job
// to complete, service_healthy for its pods to be ready (readiness is the
// healthcheck). service_started has no Kubernetes form and needs none:
// the pods start in any order and find each other by DNS.
func (r *renderer) waits(s spec.Service) []corev1.Container {
	at := serviceAt(s.Name)
	var out []corev1.Container
	for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
		d := s.DependsOn[dep]
		kind, known := r.kinds[dep]
		if !known {
			continue // a dependency left out by the profiles (not required)
		}
		var args []string
		switch d.Condition {
		case "service_completed_successfully":
			if kind != kindJob {
				r.refuse("depends_on "+dep+": service_completed_successfully needs "+dep+` to be a one-shot service (a Job: restart "no" or on-failure)`, at("depends_on", dep, "condition")...)
				continue
			}
			args = []string{"wait", "--for=condition=complete", "job/" + dep, "--timeout=-1s"}
		case "service_healthy":
			if kind == kindJob {
				r.refuse("depends_on "+dep+": service_healthy needs "+dep+" to be a long-running service (a Deployment or StatefulSet)", at("depends_on", dep, "condition")...)
				continue
			}
			args = []string{"rollout", "status", kinds[kind].short + "/" + dep, "--timeout=0s"}
		default:
			continue
		}
		out = append(out, corev1.Container{Name: "wait-" + dep, Image: r.o.WaitImage,
			ImagePullPolicy: corev1.PullIfNotPresent, Command: append([]string{"kubectl"}, args...)})
	}
	if len(out) > 0 {
		r.needWaiter = true
	}
	return out
}

// waitAccount is the service account of pods that wait for others.
func (r *renderer) waitAccount() string { return r.p.Name + "-wait" }

// waiter renders the service account of the waiting init containers and
// the Role that lets it read the workloads it waits for.
func (r *renderer) waiter() {
	if !r.needWaiter {
		return
	}
	name, ok := r.objectName("wait")
	if !ok {
		return
	}
	r.add(newObject(&corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: r.meta(name, "")}))
	r.add(newObject(&rbacv1.Role{TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "Role"), ObjectMeta: r.meta(name, ""),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "replicasets", "controllerrevisions"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		}}))
	r.add(newObject(&rbacv1.RoleBinding{TypeMeta: typeMeta("rbac.authorization.k8s.io/v1", "RoleBinding"), ObjectMeta: r.meta(name, ""),
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: r.o.Namespace}},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name}}))
}
