package kube

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// networkLabelPrefix prefixes the pod label of each network a service
// joins: net.berth.dev/<network>: "true".
const networkLabelPrefix = "net.berth.dev/"

// networkLabels are the labels of a service's pods that its networks'
// policies select.
func (r *renderer) networkLabels(s spec.Service) map[string]string {
	out := map[string]string{}
	for name := range s.Networks {
		key := networkLabelPrefix + name
		if errs := content.IsLabelKey(key); len(errs) > 0 {
			r.refuse(fmt.Sprintf("network name %q cannot be a Kubernetes label: %s", name, strings.Join(errs, "; ")), "networks", name)
			continue
		}
		out[key] = "true"
	}
	return out
}

// networks renders a NetworkPolicy per project network so that, as on one
// host, only pods sharing a network reach each other: the pods of a
// network take traffic from the pods of that network, and send to them,
// to DNS and (unless the network is internal) anywhere. Policies add up,
// so a pod on two networks talks to both. A service with published ports
// also takes traffic from anywhere on those ports.
func (r *renderer) networks() {
	used := map[string]bool{}
	for _, s := range r.p.Services {
		for n := range s.Networks {
			used[n] = true
		}
	}
	for _, key := range slices.Sorted(maps.Keys(r.p.Networks)) {
		n := r.p.Networks[key]
		if !used[key] {
			continue
		}
		if n.External {
			r.refuse("an external network cannot be mapped to Kubernetes: pods of the namespace share one network", "networks", key, "external")
			continue
		}
		if len(n.IPAM) > 0 {
			r.refuse("ipam cannot be mapped to Kubernetes: pod addresses are the cluster's", "networks", key, "ipam")
		}
		name, ok := r.objectName("net-"+key, "networks", key)
		if !ok {
			continue
		}
		peers := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: r.networkSelector(key)}}}
		udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
		dns := intstr.FromInt32(53)
		egress := []networkingv1.NetworkPolicyEgressRule{
			{To: peers},
			{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}}},
		}
		if !n.Internal {
			egress = append(egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{
				{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}, {IPBlock: &networkingv1.IPBlock{CIDR: "::/0"}}}})
		}
		meta := r.meta(name, "")
		maps.Copy(meta.Labels, r.objectLabels(n.Labels, "networks", key))
		r.add(newObject(&networkingv1.NetworkPolicy{TypeMeta: typeMeta("networking.k8s.io/v1", "NetworkPolicy"), ObjectMeta: meta,
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: r.networkSelector(key)},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: peers}},
				Egress:      egress,
			}}))
	}
	for _, s := range r.p.Services {
		r.publishedPolicy(s)
	}
}

// networkSelector selects the pods of the project on one network.
func (r *renderer) networkSelector(key string) map[string]string {
	return map[string]string{LabelProject: r.p.Name, networkLabelPrefix + key: "true"}
}

// publishedPolicy lets anyone reach the published ports of a service.
func (r *renderer) publishedPolicy(s spec.Service) {
	if validation.IsDNS1035Label(s.Name) != nil {
		return
	}
	var ports []networkingv1.NetworkPolicyPort
	for _, p := range r.ports[s.Name] {
		if p.published == 0 {
			continue
		}
		proto, target := p.protocol, intstr.FromInt32(p.target)
		ports = append(ports, networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &target})
	}
	if len(ports) == 0 {
		return
	}
	name, ok := r.objectName(s.Name+"-published", serviceAt(s.Name)("ports")...)
	if !ok {
		return
	}
	r.add(newObject(&networkingv1.NetworkPolicy{TypeMeta: typeMeta("networking.k8s.io/v1", "NetworkPolicy"), ObjectMeta: r.meta(name, s.Name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: r.selector(s.Name)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: ports}},
		}}))
}
