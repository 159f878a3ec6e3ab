package engine

import (
	"maps"
	"os"
	"testing"

	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

func TestRecordedProject(t *testing.T) {
	web := spec.Service{Name: "web", Image: "app", Networks: map[string]spec.ServiceNetwork{"default": {}, "shared": {}},
		Mounts: []spec.Mount{{Type: spec.MountVolume, Source: "data", Target: "/data"}, {Type: spec.MountVolume, Source: "ext", Target: "/ext"}}}
	recs := []store.Container{
		{Name: "shop-web-1", Service: "web", Number: 1, Spec: web.Canonical()},
		{Name: "shop-web-2", Service: "web", Number: 2, Spec: web.Canonical()},
		{Name: "shop-web-run-0123456789ab", Service: "web", Number: 1, Spec: web.Canonical(), Labels: map[string]string{labelOneOff: "True"}},
	}
	nets := []store.Network{{Name: "shop_default", Key: "default"}}
	vols := []store.Volume{{Name: "shop_data", Key: "data"}, {Name: "0123", Key: "anon:shop-web-1:/cache"}}
	eps := []store.Endpoint{{Container: "shop-web-1", Network: "shop_default", Key: "default"}, {Container: "shop-web-1", Network: "other_net", Key: "shared"},
		{Container: "elsewhere-1", Network: "x_net", Key: "x"}}
	p, err := recordedProject("shop", recs, nets, vols, eps)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Services) != 1 || p.Services[0].Name != "web" || p.Services[0].Scale != 2 || p.Services[0].Image != "app" {
		t.Errorf("services: %+v", p.Services)
	}
	if n := p.Networks["default"]; n.Name != "shop_default" || n.External {
		t.Errorf("the project's network: %+v", n)
	}
	if n := p.Networks["shared"]; n.Name != "other_net" || !n.External {
		t.Errorf("another's network its containers are on is external: %+v", n)
	}
	if _, ok := p.Networks["x"]; ok {
		t.Error("another project's endpoint made a network of this one")
	}
	if v := p.Volumes["data"]; v.Name != "shop_data" || v.External {
		t.Errorf("the project's volume: %+v", v)
	}
	if v := p.Volumes["ext"]; !v.External || len(p.Volumes) != 2 {
		t.Errorf("volumes: %+v", p.Volumes)
	}
}

func TestRecordedProjectSources(t *testing.T) {
	dir := t.TempDir()
	conf, gone := dir+"/app.conf", dir+"/gone"
	if err := os.WriteFile(conf, []byte("listen 80\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	svc := spec.Service{Name: "web", Image: "app"}
	inline := "inline\n"
	label := reconcile.EncodeSources(map[string]reconcile.RecordedSource{
		"config app_conf": {File: conf}, "config inline": {Content: &inline}, "config env": {Environment: "CONF"},
		"secret token": {File: gone}, "secret other": {}})
	recs := []store.Container{{Name: "shop-web-1", Service: "web", Number: 1, Spec: svc.Canonical(), Labels: map[string]string{labelSources: label}}}
	p, err := recordedProject("shop", recs, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := struct{ Configs, Secrets map[string]spec.FileSource }{
		map[string]spec.FileSource{
			"app_conf": {File: conf, Digest: spec.ContentDigest(spec.FileSource{Content: "listen 80\n"}, "")},
			"inline":   {Content: inline, Digest: spec.ContentDigest(spec.FileSource{Content: inline}, "")},
			"env":      {Environment: "CONF"},
		},
		map[string]spec.FileSource{"token": {File: gone}, "other": {}},
	}
	if !maps.Equal(p.Configs, want.Configs) || !maps.Equal(p.Secrets, want.Secrets) {
		t.Fatalf("configs %+v, secrets %+v; want %+v", p.Configs, p.Secrets, want)
	}
}
