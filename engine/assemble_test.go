package engine

import (
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
	"github.com/berth-dev/berth/volume"
)

func TestHealthProbe(t *testing.T) {
	if h := health(&spec.Healthcheck{Test: []string{"CMD", "check"}, Interval: time.Second, StartInterval: time.Millisecond, Retries: 2}); h == nil ||
		!slices.Equal(h.Test, []string{"check"}) || h.Interval != time.Second || h.StartInterval != time.Millisecond || h.Retries != 2 {
		t.Errorf("CMD runs its arguments: %+v", h)
	}
	if h := health(&spec.Healthcheck{Test: []string{"NONE"}}); h != nil {
		t.Errorf("NONE (disable: true) is no check: %+v", h)
	}
	h := health(&spec.Healthcheck{Test: []string{"CMD-SHELL", "curl -f localhost"}})
	if h == nil || !slices.Equal(h.Test, []string{"/bin/sh", "-c", "curl -f localhost"}) {
		t.Errorf("CMD-SHELL runs through sh: %+v", h)
	}
	if health(nil) != nil {
		t.Error("no check is none")
	}
}

func TestImageConfigForThePlanner(t *testing.T) {
	ic := imageConfig(image.Config{Cmd: []string{"serve"}, Volumes: []string{"/data"},
		Healthcheck: &v1.HealthConfig{Test: []string{"CMD", "check"}, Retries: 2}})
	if !slices.Equal(ic.Cmd, []string{"serve"}) || !slices.Equal(ic.Volumes, []string{"/data"}) || ic.Healthcheck == nil || ic.Healthcheck.Retries != 2 {
		t.Errorf("image config: %+v", ic)
	}
}

func TestRuntimeConfig(t *testing.T) {
	grace := 3 * time.Second
	c := reconcile.ContainerSpec{Project: "shop", Name: "shop-web-2", Number: 2, Service: spec.Service{Name: "web", StopGracePeriod: &grace},
		Process: &reconcile.Process{Args: []string{"run"}, Env: []string{"PATH=/bin", "X=1"}, WorkingDir: "/srv", User: "app", StopSignal: "SIGQUIT"}}
	id := strings.Repeat("ab", 32)
	cfg, err := runtimeConfig(c, id, []string{"/l1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ID != "shop-web-2" || cfg.Hostname != id[:12] || cfg.Cwd != "/srv" || cfg.User != "app" || cfg.StopSignal != "SIGQUIT" ||
		cfg.StopTimeout != grace || !slices.Equal(cfg.Args, []string{"run"}) ||
		!slices.Equal(cfg.Env, []string{"PATH=/bin", "HOSTNAME=" + id[:12], "X=1"}) ||
		cfg.Labels["com.docker.compose.container-number"] != "2" || !slices.Equal(cfg.Layers, []string{"/l1"}) {
		t.Fatalf("config: %+v", cfg)
	}
	c.Service.Hostname = "web.local"
	if cfg, _ := runtimeConfig(c, id, nil); cfg.Hostname != "web.local" || !slices.Contains(cfg.Env, "HOSTNAME=web.local") {
		t.Fatalf("the service's hostname wins, and HOSTNAME follows it: %+v", cfg)
	}
	c.Process.Env = []string{"PATH=/bin", "HOSTNAME=fixed"}
	if cfg, _ := runtimeConfig(c, id, nil); !slices.Equal(cfg.Env, c.Process.Env) {
		t.Fatalf("a HOSTNAME the image or service sets stays: %v", cfg.Env)
	}
	delay, window := time.Second, time.Minute
	c.Service.Restart, c.Service.RestartDelay, c.Service.RestartWindow = "on-failure:2", &delay, &window
	if cfg, _ := runtimeConfig(c, id, nil); cfg.Restart != "on-failure:2" || cfg.RestartDelay == nil || *cfg.RestartDelay != delay || cfg.RestartWindow != window {
		t.Fatalf("restart policy, delay and window: %q %v %v", cfg.Restart, cfg.RestartDelay, cfg.RestartWindow)
	}
	c.Process = nil
	if _, err := runtimeConfig(c, id, nil); !errors.Is(err, errNotPlanned) {
		t.Fatalf("a spec without a planned process: %v", err)
	}
}

func TestContainerMountsForEveryForm(t *testing.T) {
	svc := spec.Service{Mounts: []spec.Mount{
		{Type: spec.MountVolume, Source: "data", Target: "/data"},
		{Type: spec.MountVolume, Target: "/scratch"},
		{Type: spec.MountBind, Source: "/host", Target: "/conf", ReadOnly: true, Propagation: "rshared"},
		{Type: spec.MountTmpfs, Target: "/tmp", TmpfsSize: 1 << 20, TmpfsMode: 0o1777},
	}}
	got := spec.ContainerMounts(svc, []string{"/data", "/var/lib/app"})
	if len(got) != 5 || got[4] != (spec.Mount{Type: spec.MountVolume, Target: "/var/lib/app"}) {
		t.Fatalf("the image's VOLUME the service does not cover gets an anonymous volume, the covered one none: %+v", got)
	}
	if m := bindMount(svc.Mounts[2]); m.Type != "bind" || m.Source != "/host" || m.Target != "/conf" || !m.ReadOnly || !slices.Equal(m.Options, []string{"rshared"}) {
		t.Errorf("bind: %+v", m)
	}
	if m := tmpfsMount(svc.Mounts[3]); m.Type != "tmpfs" || !slices.Equal(m.Options, []string{"size=1048576", "mode=1777"}) {
		t.Errorf("tmpfs: %+v", m)
	}
	if m := tmpfsMount(spec.Mount{Type: spec.MountTmpfs, Target: "/ro", ReadOnly: true}); !m.ReadOnly {
		t.Errorf("tmpfs :ro is mounted read-write: %+v", m)
	}
	if m := volumeBind(svc.Mounts[0], volume.Source{Type: "bind", Path: "/v/data", ReadOnly: true}); m.Type != "bind" || m.Source != "/v/data" || !m.ReadOnly {
		t.Errorf("a read-only volume mounts read-only: %+v", m)
	}
	if m := volumeBind(svc.Mounts[0], volume.Source{Type: "tmpfs", Options: []string{"size=64m"}}); m.Type != "tmpfs" || !slices.Equal(m.Options, []string{"size=64m"}) {
		t.Errorf("a tmpfs volume: %+v", m)
	}
}

// fixedPorts hands out the lowest port not taken, from 40000 or from the
// range asked.
type fixedPorts struct{}

func (fixedPorts) Free(_ string, _ netip.Addr, taken []uint16) (uint16, error) {
	return fixedPorts{}.FreeIn("", netip.Addr{}, 40000, 40100, taken)
}

func (fixedPorts) FreeIn(_ string, _ netip.Addr, lo, hi uint16, taken []uint16) (uint16, error) {
	for p := lo; p <= hi; p++ {
		if !slices.Contains(taken, p) {
			return p, nil
		}
	}
	return 0, network.ErrExhausted
}

func TestPortMappings(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.2")
	taken := map[string][]uint16{"tcp": {8000, 40000}}
	for _, c := range []struct {
		port     spec.Port
		wantHost uint16
		wantIP   string
	}{
		{spec.Port{Target: 80, Published: spec.PortRange{Lo: 8080, Hi: 8080}}, 8080, ""},
		{spec.Port{Target: 80, Published: spec.PortRange{Lo: 8000, Hi: 8010}, HostIP: netip.MustParseAddr("127.0.0.1")}, 8001, "127.0.0.1"},
		{spec.Port{Target: 80}, 40001, ""},
		{spec.Port{Target: 53, Published: spec.PortRange{Lo: 5353, Hi: 5353}, Protocol: "udp"}, 5353, ""},
	} {
		ms, err := portMappings(c.port, ip, "br-x", taken, fixedPorts{})
		if err != nil || len(ms) != 1 {
			t.Fatalf("%+v: %v %v", c.port, ms, err)
		}
		m := ms[0]
		if m.HostPort != c.wantHost || m.ContainerPort != uint16(c.port.Target) || m.ContainerIP != ip || m.Bridge != "br-x" ||
			m.Protocol != first(c.port.Protocol, "tcp") || (c.wantIP != "" && m.HostIP.String() != c.wantIP) {
			t.Errorf("%+v: %+v", c.port, m)
		}
	}
	full := map[string][]uint16{"tcp": {8000, 8001, 8002}}
	if _, err := portMappings(spec.Port{Target: 80, Published: spec.PortRange{Lo: 8000, Hi: 8002}}, ip, "br-x", full, fixedPorts{}); err == nil {
		t.Error("a range with no free port: want an error")
	}
	v6 := mirror6([]network.PortMapping{{HostPort: 8080, ContainerIP: ip}}, netip.Addr{}, "fd00::2")
	if len(v6) != 1 || v6[0].ContainerIP.String() != "fd00::2" || mirror6(v6, netip.MustParseAddr("0.0.0.0"), "fd00::2") != nil {
		t.Errorf("mirror6: %+v", v6)
	}
}

func TestHostsFileContent(t *testing.T) {
	p := &peers{
		services: map[string]spec.Service{
			"shop-web-1":                {Name: "web", Networks: map[string]spec.ServiceNetwork{"default": {Aliases: []string{"www"}}}, ExtraHosts: []spec.ExtraHost{{Name: "db.ext", IP: netip.MustParseAddr("10.9.9.9")}, {Name: "host.docker.internal", HostGateway: true}}},
			"shop-api-1":                {Name: "api", Networks: map[string]spec.ServiceNetwork{"default": {}}},
			"other-x-1":                 {Name: "x", Networks: map[string]spec.ServiceNetwork{"private": {}}},
			"shop-api-run-0123456789ab": {Name: "api", Networks: map[string]spec.ServiceNetwork{"default": {}}},
		},
		hostnames: map[string]string{"shop-web-1": "0123456789ab"},
		oneOff:    map[string]bool{"shop-api-run-0123456789ab": true},
		eps: []store.Endpoint{
			{Container: "shop-web-1", Network: "shop_default", Address: "10.1.0.2", Key: "default"},
			{Container: "shop-api-1", Network: "shop_default", Address: "10.1.0.3", Key: "default"},
			{Container: "other-x-1", Network: "other_private", Address: "10.2.0.2", Key: "private"},
			{Container: "shop-api-run-0123456789ab", Network: "shop_default", Address: "10.1.0.4", Key: "default"},
		},
		gateways: map[string]string{"shop_default": "10.1.0.1"},
	}
	got, err := p.hostsFile("shop-web-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"10.1.0.1\thost.docker.internal\n", "10.1.0.2\t0123456789ab shop-web-1 web www\n", "10.1.0.3\tshop-api-1 api\n", "10.9.9.9\tdb.ext\n",
		"10.1.0.4\tshop-api-run-0123456789ab\n"} {
		if !strings.Contains(string(got), line) {
			t.Errorf("want %q in:\n%s", line, got)
		}
	}
	if strings.Contains(string(got), "other-x-1") {
		t.Errorf("a container on no shared network is listed:\n%s", got)
	}
}

// links and external_links name other containers, on a shared network,
// in the linking container's /etc/hosts only.
func TestHostsFileLinks(t *testing.T) {
	def := map[string]spec.ServiceNetwork{"default": {}}
	p := &peers{
		services: map[string]spec.Service{
			"shop-web-1": {Name: "web", Networks: def, Links: []spec.Link{{Target: "db", Alias: "database"}},
				ExternalLinks: []spec.Link{{Target: "legacy-box", Alias: "legacy"}, {Target: "far-away", Alias: "far"}}},
			"shop-db-1":  {Name: "db", Networks: def},
			"shop-db-2":  {Name: "db", Networks: def},
			"legacy-box": {Name: "box", Networks: def},
			"far-away":   {Name: "x", Networks: map[string]spec.ServiceNetwork{"private": {}}},
		},
		projects:  map[string]string{"shop-web-1": "shop", "shop-db-1": "shop", "shop-db-2": "shop", "legacy-box": "other", "far-away": "other"},
		hostnames: map[string]string{"shop-web-1": "0123456789ab"},
		oneOff:    map[string]bool{},
		eps: []store.Endpoint{
			{Container: "shop-web-1", Network: "shop_default", Address: "10.1.0.2", Key: "default"},
			{Container: "shop-db-1", Network: "shop_default", Address: "10.1.0.3", Key: "default"},
			{Container: "shop-db-2", Network: "shop_default", Address: "10.1.0.4", Key: "default"},
			{Container: "legacy-box", Network: "shop_default", Address: "10.1.0.9", Key: "default"},
			{Container: "far-away", Network: "other_private", Address: "10.2.0.2", Key: "private"},
		},
	}
	got, err := p.hostsFile("shop-web-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"10.1.0.3\tdatabase\n", "10.1.0.9\tlegacy\n"} {
		if !strings.Contains(string(got), line) {
			t.Errorf("want %q in:\n%s", line, got)
		}
	}
	if strings.Contains(string(got), "far") {
		t.Errorf("a link to a container on no shared network is listed:\n%s", got)
	}
	if other, _ := p.hostsFile("shop-db-1"); strings.Contains(string(other), "database") {
		t.Errorf("a link shows in another container's /etc/hosts:\n%s", other)
	}
}

// A container's labels: the image's, then the service's, then Docker
// Compose's own, which nothing overrides.
func TestContainerLabels(t *testing.T) {
	c := reconcile.ContainerSpec{Project: "shop", Number: 1, Hash: "h1", ConfigFiles: []string{"/s/compose.yaml", "/s/override.yaml"}, WorkingDir: "/s",
		Service: spec.Service{Name: "web", Labels: map[string]string{"tier": "front", "from": "service", "com.docker.compose.project": "spoof"}}}
	got := containerLabels(c, map[string]string{"from": "image", "maintainer": "me"})
	want := map[string]string{"tier": "front", "from": "service", "maintainer": "me",
		"com.docker.compose.project": "shop", "com.docker.compose.service": "web", "com.docker.compose.container-number": "1",
		"com.docker.compose.oneoff": "False", "com.docker.compose.config-hash": "h1",
		"com.docker.compose.project.config_files": "/s/compose.yaml,/s/override.yaml", "com.docker.compose.project.working_dir": "/s"}
	if !maps.Equal(got, want) {
		t.Fatalf("labels %v\nwant %v", got, want)
	}
	c.Configs = map[string]spec.FileSource{"app_conf": {File: "/s/app.conf", Digest: "d1"}}
	c.Secrets = map[string]spec.FileSource{"token": {Content: "hunter2", Digest: "d2"}}
	got = containerLabels(c, nil)
	if got[labelSources] != `{"config app_conf":{"file":"/s/app.conf"},"secret token":{}}` || got[labelContents] != "config app_conf=d1;secret token=d2" {
		t.Fatalf("config and secret labels: %q %q", got[labelSources], got[labelContents])
	}
	c.OneOff = true
	if got := containerLabels(c, nil); got[labelOneOff] != "True" {
		t.Fatalf("a one-off's label: %q", got[labelOneOff])
	}
}

// During a start-first rollout of a publishing service, the service's
// name and aliases name the container that holds the published ports:
// not the successor before the switch, not the old one after it.
func TestHostsFileStartFirst(t *testing.T) {
	web := spec.Service{Name: "web", Ports: []spec.Port{{Target: 80}}, Networks: map[string]spec.ServiceNetwork{"default": {Aliases: []string{"www"}}}}
	p := &peers{
		services:  map[string]spec.Service{"shop-web-1": web, "shop-web-2": web, "shop-api-1": {Name: "api", Networks: map[string]spec.ServiceNetwork{"default": {}}}},
		hostnames: map[string]string{"shop-api-1": "0123456789ab"},
		published: map[string]bool{"shop-web-2": true}, // after the switch
		eps: []store.Endpoint{
			{Container: "shop-web-1", Network: "shop_default", Address: "10.1.0.2", Key: "default"},
			{Container: "shop-web-2", Network: "shop_default", Address: "10.1.0.3", Key: "default"},
			{Container: "shop-api-1", Network: "shop_default", Address: "10.1.0.4", Key: "default"},
		},
	}
	got, err := p.hostsFile("shop-api-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"10.1.0.2\tshop-web-1\n", "10.1.0.3\tshop-web-2 web www\n"} {
		if !strings.Contains(string(got), line) {
			t.Errorf("want %q in:\n%s", line, got)
		}
	}
}
