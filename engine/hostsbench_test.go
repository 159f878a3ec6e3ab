package engine

import (
	"fmt"
	"testing"

	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// BenchmarkPeersHostsFile renders the /etc/hosts of a container among 50
// peers of one network, as RefreshHosts does for each of them.
func BenchmarkPeersHostsFile(b *testing.B) {
	p := &peers{services: map[string]spec.Service{}, hostnames: map[string]string{}, oneOff: map[string]bool{}, published: map[string]bool{}, gateways: map[string]string{"shop_default": "10.1.0.1"}, projects: map[string]string{}}
	for i := 1; i <= 50; i++ {
		n := fmt.Sprintf("shop-s%d-1", i)
		p.services[n] = spec.Service{Name: fmt.Sprintf("s%d", i), Networks: map[string]spec.ServiceNetwork{"default": {}}, Environment: map[string]string{"V": "1"}, Command: []string{"sleep", "1000"}}
		p.hostnames[n] = "0123456789ab"
		p.projects[n] = "shop"
		p.eps = append(p.eps, store.Endpoint{Container: n, Network: "shop_default", Address: fmt.Sprintf("10.1.0.%d", i+1), Key: "default"})
	}
	for b.Loop() {
		p.hostsFile("shop-s7-1")
	}
}
