package kube

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podTemplate maps what a service's containers run: the container, its
// volumes, probes, the pod's DNS and hosts, and the waits for its
// dependencies.
func (r *renderer) podTemplate(s spec.Service, ports []port) corev1.PodTemplateSpec {
	at := serviceAt(s.Name)
	r.refuseHostOnly(s)
	c := corev1.Container{
		Name:            s.Name,
		Image:           s.Image,
		ImagePullPolicy: r.pullPolicy(s),
		Command:         r.argv(s.Entrypoint, "entrypoint", at),
		Args:            r.argv(s.Command, "command", at),
		WorkingDir:      s.WorkingDir,
		Env:             env(s.Environment),
		TTY:             s.Tty,
		Stdin:           s.StdinOpen,
		Ports:           containerPorts(ports),
		SecurityContext: r.securityContext(s),
		Lifecycle:       r.hooks(s),
		Resources:       r.resources(s),
	}
	if s.Build != nil && s.Image == spec.DefaultImageName(r.p.Name, s.Name) {
		r.refuse("build: a cluster cannot pull an image built on this host: name it, with its registry, in image (up --kube --build builds and pushes it)", at("build")...)
	}
	c.ReadinessProbe, c.LivenessProbe, c.StartupProbe = probes(s.Healthcheck)
	grace := int64(math.Ceil(lifecycle.DefaultStopGrace.Seconds()))
	if s.StopGracePeriod != nil {
		grace = int64(math.Ceil(s.StopGracePeriod.Seconds()))
	}
	pod := corev1.PodSpec{
		TerminationGracePeriodSeconds: &grace,
		HostAliases:                   r.hostAliases(s),
		DNSConfig:                     dnsConfig(s),
		NodeSelector:                  r.nodeSelector(s),
	}
	if s.Hostname != "" {
		if errs := content.IsDNS1123Label(s.Hostname); len(errs) > 0 {
			r.refuse("hostname "+strconv.Quote(s.Hostname)+" is not a pod hostname: "+strings.Join(errs, "; "), at("hostname")...)
		}
		pod.Hostname = s.Hostname
	}
	c.VolumeMounts, pod.Volumes = r.podVolumes(s)
	if m, v := shm(s); m != nil {
		c.VolumeMounts, pod.Volumes = append(c.VolumeMounts, *m), append(pod.Volumes, *v)
	}
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	r.confine(s, c.SecurityContext, &pod)
	pod.InitContainers = r.waits(s)
	if len(pod.InitContainers) > 0 {
		pod.ServiceAccountName = r.waitAccount()
	}
	pod.Containers = []corev1.Container{c}
	labels := r.selector(s.Name)
	maps.Copy(labels, r.userLabels(s))
	maps.Copy(labels, r.networkLabels(s))
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod}
}

// refuseHostOnly refuses the keys that only make sense on one host.
func (r *renderer) refuseHostOnly(s spec.Service) {
	at := serviceAt(s.Name)
	no := func(set bool, key, why string) {
		if set {
			r.refuse(key+" cannot be mapped to Kubernetes: "+why, at(key)...)
		}
	}
	no(s.NetworkMode != "", "network_mode", "pods share no network stack with the host or another pod")
	no(s.ContainerName != "", "container_name", "Kubernetes names pods itself")
	no(s.Domainname != "", "domainname", "a pod's domain is its namespace's")
	no(s.MacAddress != "", "mac_address", "pod addresses are the cluster's")
	no(len(s.VolumesFrom) > 0, "volumes_from", "pods cannot share another pod's volumes")
	no(s.Init, "init", "Kubernetes runs no init process in the container")
	no(len(s.ExternalLinks) > 0, "external_links", "there are no containers outside the stack")
	no(s.Logging != nil, "logging", "the cluster keeps container logs")
	for _, l := range s.Links {
		no(l.Alias != "" && l.Alias != l.Target, "links", "an alias of a link needs a Service of its own; use a network alias")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Networks)) {
		n := s.Networks[name]
		if n.IPv4Address.IsValid() || n.IPv6Address.IsValid() || n.MacAddress != "" {
			r.refuse("fixed addresses cannot be mapped to Kubernetes: pod addresses are the cluster's", at("networks", name)...)
		}
	}
}

// pullPolicy maps pull_policy.
func (r *renderer) pullPolicy(s spec.Service) corev1.PullPolicy {
	switch s.PullPolicy {
	case "", "missing", "if_not_present":
		return corev1.PullIfNotPresent
	case "always":
		return corev1.PullAlways
	case "refresh":
		if s.PullRefresh == 0 { // refresh: pull every time
			return corev1.PullAlways
		}
		r.refuse("pull_policy "+s.PullRefresh.String()+" windows cannot be mapped to Kubernetes (always or missing)", serviceAt(s.Name)("pull_policy")...)
		return ""
	case "never":
		return corev1.PullNever
	}
	r.refuse("pull_policy "+s.PullPolicy+" cannot be mapped to Kubernetes (build and push the image first)", serviceAt(s.Name)("pull_policy")...)
	return ""
}

// argv maps entrypoint or command; an explicit empty list (the image's
// reset) has no Kubernetes form.
func (r *renderer) argv(args []string, key string, at func(...string) []string) []string {
	if args != nil && len(args) == 0 {
		r.refuse(key+": [] (resetting the image's) cannot be mapped to Kubernetes", at(key)...)
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = escape(a)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// escape keeps Kubernetes from expanding $(VAR) in a value Compose passes
// as written: "$$" is Kubernetes' "$".
func escape(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// env is the environment, sorted by name.
func env(vars map[string]string) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		out = append(out, corev1.EnvVar{Name: k, Value: escape(vars[k])})
	}
	return out
}

// securityContext maps user ("uid[:gid]", numeric only: a pod has no
// /etc/passwd to look names up in) and read_only.
func (r *renderer) securityContext(s spec.Service) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{}
	set := false
	if s.User != "" {
		uid, gid, hasGID := strings.Cut(s.User, ":")
		u, err := strconv.ParseInt(uid, 10, 64)
		g, gerr := strconv.ParseInt(gid, 10, 64)
		if err != nil || (hasGID && gerr != nil) {
			r.refuse("user "+strconv.Quote(s.User)+" must be numeric (uid[:gid]) on Kubernetes", serviceAt(s.Name)("user")...)
		} else {
			sc.RunAsUser, set = &u, true
			if hasGID {
				sc.RunAsGroup = &g
			}
		}
	}
	if s.ReadOnly {
		ro := true
		sc.ReadOnlyRootFilesystem, set = &ro, true
	}
	if !set {
		return nil
	}
	return sc
}

// stopSignal: Kubernetes always sends SIGTERM; another stop_signal is sent
// by a preStop hook first (it needs sh and kill in the image).
func (r *renderer) stopSignal(s spec.Service) *corev1.Lifecycle {
	sig := strings.TrimPrefix(strings.ToUpper(s.StopSignal), "SIG")
	if sig == "" || sig == "TERM" {
		return nil
	}
	return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
		Command: []string{"/bin/sh", "-c", "kill -" + sig + " 1"}}}}
}

// userLabels are the service's labels, refused where Kubernetes would
// not take them.
func (r *renderer) userLabels(s spec.Service) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		v := s.Labels[k]
		if errs := append(content.IsLabelKey(k), content.IsLabelValue(v)...); len(errs) > 0 {
			r.refuse(fmt.Sprintf("label %q=%q is not a Kubernetes label: %s", k, v, strings.Join(errs, "; ")), serviceAt(s.Name)("labels", k)...)
			continue
		}
		if strings.HasPrefix(k, "berth.dev/") || k == LabelManagedBy {
			r.refuse("label "+strconv.Quote(k)+" is berth's own", serviceAt(s.Name)("labels", k)...)
			continue
		}
		out[k] = v
	}
	return out
}

// hostAliases maps extra_hosts; host-gateway has no pod equivalent.
func (r *renderer) hostAliases(s spec.Service) []corev1.HostAlias {
	byIP := map[string][]string{}
	for _, h := range s.ExtraHosts {
		if h.HostGateway {
			r.refuse("extra_hosts "+h.Name+":host-gateway cannot be mapped to Kubernetes: a pod's host is any node", serviceAt(s.Name)("extra_hosts")...)
			continue
		}
		byIP[h.IP.String()] = append(byIP[h.IP.String()], h.Name)
	}
	var out []corev1.HostAlias
	for _, ip := range slices.Sorted(maps.Keys(byIP)) {
		out = append(out, corev1.HostAlias{IP: ip, Hostnames: byIP[ip]})
	}
	return out
}

// dnsConfig maps dns, dns_search and dns_opt, added to the cluster's DNS.
func dnsConfig(s spec.Service) *corev1.PodDNSConfig {
	if len(s.DNS)+len(s.DNSSearch)+len(s.DNSOpt) == 0 {
		return nil
	}
	c := &corev1.PodDNSConfig{Nameservers: s.DNS, Searches: s.DNSSearch}
	for _, o := range s.DNSOpt {
		name, value, ok := strings.Cut(o, ":")
		opt := corev1.PodDNSConfigOption{Name: name}
		if ok {
			opt.Value = &value
		}
		c.Options = append(c.Options, opt)
	}
	return c
}

// nodeSelector maps platform to the well-known node labels.
func (r *renderer) nodeSelector(s spec.Service) map[string]string {
	if s.Platform == "" {
		return nil
	}
	parts := strings.Split(s.Platform, "/")
	if len(parts) < 2 || len(parts) > 3 {
		r.refuse("platform "+strconv.Quote(s.Platform)+" must be os/arch[/variant]", serviceAt(s.Name)("platform")...)
		return nil
	}
	if len(parts) == 3 {
		r.refuse("platform variant "+parts[2]+" has no node label", serviceAt(s.Name)("platform")...)
	}
	return map[string]string{"kubernetes.io/os": parts[0], "kubernetes.io/arch": parts[1]}
}

func itoa(n int) string { return strconv.Itoa(n) }

// seconds rounds d up to whole seconds, at least min.
func seconds(d, def time.Duration, min int32) int32 {
	if d == 0 {
		d = def
	}
	return max(int32(math.Ceil(d.Seconds())), min)
}
