package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var (
	once      sync.Once
	shared    *Server
	sharedErr error
	sharedDir string
)

// Shared is one control plane for the whole test binary, started by the
// first test that asks for it and stopped by Main. Without the tools the
// test is skipped, or fails under CI=true.
func Shared(t testing.TB) *Server {
	t.Helper()
	once.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "berth-kubetest-")
		if sharedErr == nil {
			shared, sharedErr = Start(sharedDir)
		}
	})
	if errors.Is(sharedErr, ErrNoTools) && os.Getenv("CI") != "true" {
		t.Skip(sharedErr)
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// Main runs the tests of a package that uses Shared and stops the
// control plane after them: call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	return code
}

// namespaceSeq tells apart the namespaces of one test run more than once.
var namespaceSeq atomic.Int64

var namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// Namespace creates a namespace for t alone, deleted when t ends.
func (s *Server) Namespace(t testing.TB) string {
	t.Helper()
	dyn, err := dynamic.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 50 {
		name = name[:50]
	}
	name = fmt.Sprintf("%s-%d-%d", strings.Trim(name, "-"), os.Getpid()%10000, namespaceSeq.Add(1))
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": name}}}
	if _, err := dyn.Resource(namespaces).Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = dyn.Resource(namespaces).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}
