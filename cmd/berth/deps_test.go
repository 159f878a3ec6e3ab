package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoKubernetesInBerth: client-go and its API packages live in
// berth-kube only. Linked into berth they cost every command about 3 ms
// of package init and 15 MB of binary (issue 15). So do go-git and the
// Prometheus client, which live in berth-gitops (and berth-kube): about
// 4 ms of every command's start. Prometheus's procfs compiles 22 regular
// expressions at init, ~0.5 ms of every command: berth reads a namespace's
// sockets through netlink instead.
func TestNoKubernetesInBerth(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "k8s.io/") || strings.HasPrefix(dep, "sigs.k8s.io/") ||
			dep == "github.com/berth-dev/berth/kube" || dep == "github.com/berth-dev/berth/kubecli" {
			t.Errorf("berth links %s: it belongs in berth-kube", dep)
		}
		if strings.HasPrefix(dep, "github.com/go-git/") || strings.HasPrefix(dep, "github.com/prometheus/client_golang/") ||
			dep == "github.com/berth-dev/berth/gitfollow" || dep == "github.com/berth-dev/berth/gitsource" ||
			dep == "github.com/berth-dev/berth/metrics" || dep == "github.com/berth-dev/berth/gitopscli" {
			t.Errorf("berth links %s: it belongs in berth-gitops", dep)
		}
		if strings.HasPrefix(dep, "github.com/prometheus/procfs") {
			t.Errorf("berth links %s: its init compiles regular expressions every command pays for", dep)
		}
	}
}
