package kube

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// confine maps how a service's containers are confined to the
// container's and the pod's security contexts: cap_add/cap_drop →
// capabilities, privileged, seccomp (Docker's default profile is the
// runtime's default), security_opt no-new-privileges and apparmor,
// group_add (numeric) → supplementalGroups, sysctls, ipc and pid host.
// What Kubernetes has no field for is refused.
func (r *renderer) confine(s spec.Service, c *corev1.SecurityContext, pod *corev1.PodSpec) {
	sec := s.Security
	at := serviceAt(s.Name)
	no := func(set bool, key, why string) {
		if set {
			r.refuse(key+" cannot be mapped to Kubernetes: "+why, at(key)...)
		}
	}
	caps := func(names []string) []corev1.Capability {
		var out []corev1.Capability
		for _, n := range names {
			out = append(out, corev1.Capability(strings.TrimPrefix(n, "CAP_")))
		}
		return out
	}
	if len(sec.CapAdd)+len(sec.CapDrop) > 0 {
		c.Capabilities = &corev1.Capabilities{Add: caps(sec.CapAdd), Drop: caps(sec.CapDrop)}
	}
	if sec.Privileged {
		c.Privileged = &sec.Privileged
	}
	switch sec.Seccomp {
	case "":
		c.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case "unconfined":
		c.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	default:
		r.refuse("security_opt seccomp="+sec.Seccomp+" cannot be mapped to Kubernetes: a profile file must be on every node", at("security_opt")...)
	}
	if sec.NoNewPrivileges {
		f := false
		c.AllowPrivilegeEscalation = &f
	}
	switch sec.AppArmor {
	case "":
	case "unconfined":
		c.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	default:
		name := sec.AppArmor
		c.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
	}
	no(len(sec.Label) > 0, "security_opt", "SELinux labels are set by seLinuxOptions, which berth does not map")
	no(len(sec.Devices) > 0, "devices", "pods reach host devices through device plugins")
	no(len(sec.DeviceCgroupRules) > 0, "device_cgroup_rules", "pods reach host devices through device plugins")
	no(sec.Cgroup == "host", "cgroup", "a pod cannot join the host's cgroup namespace")
	no(len(sec.Ulimits) > 0, "ulimits", "the container runtime of the node sets them")
	no(sec.Uts == "host", "uts", "a pod cannot share the host's UTS namespace alone")
	no(sec.OomScoreAdj != 0, "oom_score_adj", "the kubelet sets it from the pod's QoS class")
	no(strings.HasPrefix(sec.Ipc, "service:") || strings.HasPrefix(sec.Ipc, "container:"), "ipc", "pods cannot share another pod's namespaces")
	no(strings.HasPrefix(sec.Pid, "service:") || strings.HasPrefix(sec.Pid, "container:"), "pid", "pods cannot share another pod's namespaces")
	pod.HostIPC, pod.HostPID = sec.Ipc == "host", sec.Pid == "host"
	ps := &corev1.PodSecurityContext{}
	for _, g := range sec.GroupAdd {
		id, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			r.refuse("group_add "+strconv.Quote(g)+" must be numeric on Kubernetes", at("group_add")...)
			continue
		}
		ps.SupplementalGroups = append(ps.SupplementalGroups, id)
	}
	for _, k := range slices.Sorted(maps.Keys(sec.Sysctls)) {
		ps.Sysctls = append(ps.Sysctls, corev1.Sysctl{Name: k, Value: sec.Sysctls[k]})
	}
	if len(ps.SupplementalGroups)+len(ps.Sysctls) > 0 {
		pod.SecurityContext = ps
	}
}

// shm is /dev/shm of shm_size: an emptyDir in memory of that size.
func shm(s spec.Service) (*corev1.VolumeMount, *corev1.Volume) {
	if s.Security.ShmSize == 0 {
		return nil, nil
	}
	return &corev1.VolumeMount{Name: "shm", MountPath: "/dev/shm"},
		&corev1.Volume{Name: "shm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
			Medium: corev1.StorageMediumMemory, SizeLimit: resource.NewQuantity(s.Security.ShmSize, resource.BinarySI)}}}
}
