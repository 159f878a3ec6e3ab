package engine

import (
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// pushBusybox serves a busybox image whose CMD prints a greeting from an
// in-process registry on 127.0.0.1 and returns its reference.
func pushBusybox(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	rootfs := testutil.BusyboxTar(t)
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rootfs)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Cmd: []string{"sh", "-c", "echo pulled-image-runs; exec sleep 1000"}, Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.TrimPrefix(srv.URL, "http://") + "/test/busybox:1"
	tag, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	return ref
}

// up pulls a missing image from a plain-HTTP loopback registry, as Docker
// does without configuration, and runs it with the image's CMD.
func TestUpPullsFromLoopbackRegistry(t *testing.T) {
	h := newHost(t)
	ref := pushBusybox(t)
	p := h.load("services:\n  app:\n    image: " + ref + "\n")
	plan, err := reconcile.PlanUp(p, mustObserve(t, h, p), reconcile.Options{})
	if err != nil || !plan.HasPulls() {
		t.Fatalf("plan must pull the missing image: %v\n%s", err, plan)
	}
	h.mustUp(p)
	h.waitLog(spec.ContainerName(h.project, "app", 1), "pulled-image-runs")
	if again := mustPlan(t, h, p); !again.Empty() {
		t.Fatalf("a second plan is not empty:\n%s", again)
	}
}

func mustObserve(t *testing.T, h *host, p *spec.Project) reconcile.Observed {
	t.Helper()
	obs, err := h.e.Observe(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func mustPlan(t *testing.T, h *host, p *spec.Project) reconcile.Plan {
	t.Helper()
	plan, err := reconcile.PlanUp(p, mustObserve(t, h, p), reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}
