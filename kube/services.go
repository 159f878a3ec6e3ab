package kube

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// port is one port a service listens on, and where it is published.
type port struct {
	target    int32
	protocol  corev1.Protocol
	published int32 // 0: not published
}

// servicePorts are a service's ports and exposed ports, by target and
// protocol, in that order; published ranges and host addresses are refused.
func (r *renderer) servicePorts(s spec.Service) []port {
	at := serviceAt(s.Name)
	seen := map[string]int{}
	var out []port
	addPort := func(p port) {
		key := fmt.Sprint(p.target, p.protocol, p.published)
		if _, dup := seen[key]; !dup {
			seen[key] = len(out)
			out = append(out, p)
		}
	}
	for _, p := range s.Ports {
		if p.HostIP.IsValid() {
			r.refuse("ports: a host address ("+p.HostIP.String()+") cannot be mapped to Kubernetes", at("ports")...)
		}
		if p.Published.Lo != p.Published.Hi {
			r.refuse("ports: a published range ("+p.Published.String()+") cannot be mapped to Kubernetes", at("ports")...)
		}
		addPort(port{target: int32(p.Target), protocol: protocol(p.Protocol), published: int32(p.Published.Lo)})
	}
	for _, x := range s.Expose {
		num, proto, _ := strings.Cut(x, "/")
		n, err := strconv.Atoi(num)
		if err != nil {
			r.refuse("expose "+strconv.Quote(x)+" is not a port", at("expose")...)
			continue
		}
		if !slices.ContainsFunc(out, func(p port) bool { return p.target == int32(n) && p.protocol == protocol(proto) }) {
			addPort(port{target: int32(n), protocol: protocol(proto)})
		}
	}
	slices.SortStableFunc(out, func(a, b port) int {
		if a.target != b.target {
			return int(a.target - b.target)
		}
		if a.protocol != b.protocol {
			return strings.Compare(string(a.protocol), string(b.protocol))
		}
		return int(a.published - b.published)
	})
	return out
}

func protocol(p string) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return corev1.Protocol(strings.ToUpper(p))
}

// containerPorts are the container's ports, one per target and protocol.
func containerPorts(ports []port) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, p := range ports {
		if !slices.ContainsFunc(out, func(c corev1.ContainerPort) bool { return c.ContainerPort == p.target && c.Protocol == p.protocol }) {
			out = append(out, corev1.ContainerPort{ContainerPort: p.target, Protocol: p.protocol})
		}
	}
	return out
}

// services renders the Services that make a service's name, and each of
// its network aliases, resolve in the cluster as in Compose: ClusterIP on
// the target ports (headless when it has none); published ports make the
// service's own Service a LoadBalancer (or NodePort) that also listens on
// the published port.
func (r *renderer) services(s spec.Service, ports []port) {
	main := r.service1(s.Name, s, ports, true)
	r.add(newObject(main))
	aliases := map[string]bool{}
	for _, n := range s.Networks {
		for _, a := range n.Aliases {
			if a != s.Name {
				aliases[a] = true
			}
		}
	}
	for _, a := range slices.Sorted(maps.Keys(aliases)) {
		if errs := validation.IsDNS1035Label(a); len(errs) > 0 {
			r.refuse(fmt.Sprintf("alias %q is not a Kubernetes service name: %s", a, strings.Join(errs, "; ")), serviceAt(s.Name)("networks")...)
			continue
		}
		r.add(newObject(r.service1(a, s, ports, false)))
	}
}

// service1 is one Service named name selecting the pods of s.
func (r *renderer) service1(name string, s spec.Service, ports []port, publish bool) *corev1.Service {
	svc := &corev1.Service{TypeMeta: typeMeta("v1", "Service"), ObjectMeta: r.meta(name, s.Name),
		Spec: corev1.ServiceSpec{Selector: r.selector(s.Name)}}
	if len(ports) == 0 {
		svc.Spec.ClusterIP = corev1.ClusterIPNone
		return svc
	}
	svc.Spec.Type = corev1.ServiceTypeClusterIP
	add := func(p port, listen int32) {
		for _, have := range svc.Spec.Ports {
			if have.Port == listen && have.Protocol == p.protocol {
				return
			}
		}
		sp := corev1.ServicePort{Name: strings.ToLower(string(p.protocol)) + "-" + strconv.Itoa(int(listen)),
			Protocol: p.protocol, Port: listen, TargetPort: intstr.FromInt32(p.target)}
		if svc.Spec.Type == corev1.ServiceTypeNodePort && listen == p.published && listen >= 30000 && listen <= 32767 {
			sp.NodePort = listen
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	for _, p := range ports {
		if publish && p.published != 0 {
			svc.Spec.Type = corev1.ServiceType(r.o.PublishedType)
		}
	}
	for _, p := range ports {
		add(p, p.target)
		if publish && p.published != 0 {
			add(p, p.published)
		}
	}
	return svc
}
