package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/spec"
)

// Containers of one image and one set of mount points share one init
// layer holding the mount points the image lacks, so that their starts
// make nothing in their own layers, and the container still finds them
// (and its /etc files) where the init mounted them, a read-only root
// filesystem included. Removing the image
// removes its init layers.
func TestInitLayerShared(t *testing.T) {
	h := newHost(t)
	etc := map[string][]byte{"/etc/hosts": nil, "/etc/hostname": nil, "/etc/resolv.conf": nil}
	if _, err := h.e.Images.Import(context.Background(), bytes.NewReader(testutil.BusyboxTarWith(t, etc)), "berth-test/full:1", nil); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(h.dir, "app.conf")
	if err := os.WriteFile(conf, []byte("conf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := h.load(`
services:
  web:
    image: berth-test/busybox:1
    command: ["sh", "-c", "cat /srv/app.conf; test -d /data/new && test -s /etc/hosts && grep -q ' /etc/hostname ' /proc/self/mountinfo && echo points-ok; exec sleep 1000"]
    volumes: [data:/data/new, ./app.conf:/srv/app.conf:ro]
    read_only: true
  worker:
    image: berth-test/busybox:1
    command: ["sh", "-c", "test -s /etc/resolv.conf && echo worker-ok; exec sleep 1000"]
    scale: 2
  full:
    image: berth-test/full:1
    command: ["sleep", "1000"]
volumes:
  data:
`)
	h.mustUp(p)
	web := spec.ContainerName(h.project, "web", 1)
	h.waitLog(web, "conf")
	h.waitLog(web, "points-ok")
	tops := map[string]string{}
	for _, name := range []string{web, spec.ContainerName(h.project, "worker", 1), spec.ContainerName(h.project, "worker", 2)} {
		if !strings.Contains(name, "web") {
			h.waitLog(name, "worker-ok")
		}
		cfg, err := h.e.runtime.Config(name)
		if err != nil {
			t.Fatal(err)
		}
		top := cfg.Layers[len(cfg.Layers)-1]
		if !strings.HasPrefix(top, filepath.Join(h.e.Root, "image", "initlayers")+"/") {
			t.Fatalf("%s: top layer %s is no init layer", name, top)
		}
		tops[name] = top
		// The start made no mount point (nor copied up /etc) in the
		// container's own layer.
		if ents, err := os.ReadDir(h.e.runtime.UpperDir(name)); err != nil || len(ents) != 0 {
			t.Errorf("%s: its own layer holds %v (%v)", name, ents, err)
		}
	}
	// An image with every point has no init layer to add.
	full := spec.ContainerName(h.project, "full", 1)
	if cfg, err := h.e.runtime.Config(full); err != nil || strings.Contains(strings.Join(cfg.Layers, ":"), "initlayers") {
		t.Errorf("%s: layers %v (%v): an empty init layer was added", full, cfg.Layers, err)
	}
	w1, w2 := tops[spec.ContainerName(h.project, "worker", 1)], tops[spec.ContainerName(h.project, "worker", 2)]
	if w1 != w2 || w1 == tops[web] {
		t.Errorf("init layers: %v (the workers share one, web has its own)", tops)
	}
	for _, want := range []string{"etc/hosts", "etc/hostname", "etc/resolv.conf", "data/new", "srv/app.conf"} {
		if _, err := os.Lstat(filepath.Join(tops[web], want)); err != nil {
			t.Errorf("web's init layer lacks %s: %v", want, err)
		}
	}
	h.down(true)
	ctx := context.Background()
	img, err := h.e.Images.Get("berth-test/busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.e.Untag(ctx, img.Ref, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range tops {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("init layer %s left after the image went: %v", d, err)
		}
	}
}
