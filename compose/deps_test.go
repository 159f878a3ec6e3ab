package compose

import (
	"os/exec"
	"strings"
	"testing"
)

// The CLI holds flags, discovery and rendering: it asks the reconciler to
// plan and the engine to carry out and to describe the host, and never
// reaches the store, the runtime, networking, volumes or a kernel library
// itself. (The image package's own verbs — tag, save, load, inspect — are
// a library the image commands call, so its public API is allowed.)
func TestCLIStaysOffTheHost(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/berth-dev/berth/store", "github.com/berth-dev/berth/runtime", "github.com/berth-dev/berth/network",
		"github.com/berth-dev/berth/volume", "github.com/berth-dev/berth/image/internal",
		"github.com/opencontainers/runc", "github.com/vishvananda/netlink", "github.com/google/nftables",
		"github.com/mattn/go-sqlite3", "golang.org/x/sys/unix",
		// the cluster is reached through berth-kube (package kubecli), so
		// that berth links no client-go (cmd/berth/deps_test.go)
		"github.com/berth-dev/berth/kube", "github.com/berth-dev/berth/kubecli",
		"k8s.io/client-go", "k8s.io/api", "k8s.io/apimachinery",
		// git and the loop's metrics through berth-gitops (package
		// gitopscli), so that berth links no go-git nor Prometheus client
		"github.com/berth-dev/berth/gitfollow", "github.com/berth-dev/berth/gitsource",
		"github.com/berth-dev/berth/metrics", "github.com/berth-dev/berth/gitopscli",
		"github.com/go-git/go-git/v5", "github.com/prometheus/client_golang",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("compose imports %s", dep)
			}
		}
	}
}
