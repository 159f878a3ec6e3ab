package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/kubetest"
	"github.com/berth-dev/berth/internal/testutil"
)

// up --kube --build builds the service's image with berth's builder,
// pushes it to the registry its image names, and applies the Deployment
// with the image pinned to the pushed digest.
func TestUpKubeBuildPushesAndPins(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	srv := kubetest.Shared(t)
	ns := srv.Namespace(t)
	host := testutil.Registry(t, nil)
	testutil.PushBusybox(t, host+"/lib/base:1", []string{"sleep", "1000"}, nil)
	image := host + "/shop/web:1"
	dir := project(t, "services:\n  web:\n    image: "+image+"\n    restart: always\n    build: ./web\n")
	writeFile(t, filepath.Join(dir, "web", "Dockerfile"), "FROM "+host+"/lib/base:1\nCOPY hello.txt /hello.txt\n", 0, 0)
	writeFile(t, filepath.Join(dir, "web", "hello.txt"), "hello\n", 0, 0)
	u := newUser(t, dir)
	t.Cleanup(func() {
		u.try("down", "--kube", "--kubeconfig", srv.Kubeconfig, "-n", ns)
		u.try("down", "-t", "0", "--rmi", "all")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	out := u.run("up", "--kube", "--build", "--kubeconfig", srv.Kubeconfig, "-n", ns)
	if !strings.Contains(out, "deployment web created") {
		t.Fatalf("up --kube --build:\n%s", out)
	}
	ref, err := name.ParseReference(image, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatalf("the built image is not in the registry: %v", err)
	}
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns).
		Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 || containers[0].(map[string]any)["image"] != image+"@"+desc.Digest.String() {
		t.Errorf("the Deployment runs %v, want %s@%s", containers, image, desc.Digest)
	}
}
