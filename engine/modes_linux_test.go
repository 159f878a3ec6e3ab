package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-dev/berth/spec"
)

// Binds (read-write and :ro), tmpfs and the network modes, checked from
// inside the containers.
func TestMountsAndNetworkModes(t *testing.T) {
	h := newHost(t)
	src := filepath.Join(h.dir, "shared")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "in"), []byte("from-host"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := h.load(`
services:
  mounts:
    image: berth-test/busybox:1
    command: ["sh", "-c", "cat /ro/in; echo; touch /ro/x 2>/dev/null && echo ro-writable || echo ro-refused; echo written > /rw/out; grep -q ' /scratch tmpfs ' /proc/mounts && echo scratch-is-tmpfs; echo done; exec sleep 1000"]
    volumes:
      - ./shared:/ro:ro
      - ./made-by-berth:/rw
    tmpfs: [/scratch]
  isolated:
    image: berth-test/busybox:1
    network_mode: none
    command: ["sh", "-c", "ls /sys/class/net | tr '\\n' ' '; echo; exec sleep 1000"]
  hostnet:
    image: berth-test/busybox:1
    network_mode: host
    command: ["sh", "-c", "ls /sys/class/net | wc -l; exec sleep 1000"]
`)
	h.mustUp(p)
	name := spec.ContainerName(h.project, "mounts", 1)
	h.waitLog(name, "done")
	for _, want := range []string{"from-host", "ro-refused", "scratch-is-tmpfs"} {
		if !strings.Contains(h.logs(name), want) {
			t.Errorf("mounts: no %q in\n%s", want, h.logs(name))
		}
	}
	if b, err := os.ReadFile(filepath.Join(h.dir, "made-by-berth", "out")); err != nil || string(b) != "written\n" {
		t.Errorf("a missing short-syntax bind source is created and writable: %q %v", b, err)
	}
	iso := spec.ContainerName(h.project, "isolated", 1)
	h.waitLog(iso, "lo")
	if got := strings.TrimSpace(h.logs(iso)); got != "lo" {
		t.Errorf("network_mode none must leave only lo, got %q", got)
	}
	hostIfs, _ := os.ReadDir("/sys/class/net")
	hn := spec.ContainerName(h.project, "hostnet", 1)
	h.waitLog(hn, "\n")
	if got := strings.TrimSpace(h.logs(hn)); got == "1" || got == "" {
		t.Errorf("network_mode host must see the host's %d interfaces, saw %s", len(hostIfs), got)
	}
}

// /etc/hosts follows the project: a service added later is resolvable from
// a container made before it.
func TestHostsFollowPeers(t *testing.T) {
	h := newHost(t)
	one := `
services:
  a:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
`
	h.mustUp(h.load(one))
	hostsOf := func(c string) string {
		b, err := os.ReadFile(filepath.Join(h.e.etcDir(spec.ContainerName(h.project, c, 1)), "hosts"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if slices.Contains(strings.Fields(hostsOf("a")), "b") { // as a whole name: a's hostname may begin with b
		t.Fatalf("b is not there yet:\n%s", hostsOf("a"))
	}
	h.mustUp(h.load(one + `
  b:
    image: berth-test/busybox:1
    command: ["sh", "-c", "ping -c1 -W2 a && echo reached-a; exec sleep 1000"]
    networks:
      default:
        aliases: [bee]
`))
	for _, name := range []string{spec.ContainerName(h.project, "b", 1), "bee"} {
		if !strings.Contains(hostsOf("a"), name) {
			t.Errorf("a's /etc/hosts lacks %q:\n%s", name, hostsOf("a"))
		}
	}
	h.waitLog(spec.ContainerName(h.project, "b", 1), "reached-a")
}

// container_name names the container; services sharing its network and
// volumes find it by service name all the same.
func TestContainerNameAndSharing(t *testing.T) {
	h := newHost(t)
	fixed := h.project + "-the-db"
	p := h.load(`
services:
  db:
    image: berth-test/busybox:1
    container_name: ` + fixed + `
    command: ["sh", "-c", "mkdir -p /www && echo shared-ns > /www/index.html; echo seed > /data/seed; exec httpd -f -p 8000 -h /www"]
    volumes: [data:/data]
    stop_grace_period: 100ms
  sidecar:
    image: berth-test/busybox:1
    network_mode: "service:db"
    volumes_from: [db]
    command: ["sh", "-c", "until wget -qO- http://127.0.0.1:8000/; do sleep 0.1; done; cat /data/seed; exec sleep 1000"]
    stop_grace_period: 100ms
volumes:
  data:
`)
	h.mustUp(p)
	if st, err := h.e.runtime.State(t.Context(), fixed); err != nil || st.Status != "running" {
		t.Fatalf("no running container named %s: %+v %v", fixed, st, err)
	}
	side := spec.ContainerName(h.project, "sidecar", 1)
	h.waitLog(side, "shared-ns")
	h.waitLog(side, "seed")
	if again := mustPlan(t, h, p); !again.Empty() {
		t.Fatalf("not converged:\n%s", again)
	}
}

// depends_on: condition: service_healthy starts the dependent only once the
// dependency's health check passes.
func TestDependsOnHealthy(t *testing.T) {
	h := newHost(t)
	p := h.load(`
services:
  db:
    image: berth-test/busybox:1
    command: ["sh", "-c", "sleep 1; touch /shared/ready; exec sleep 1000"]
    volumes: [shared:/shared]
    healthcheck:
      test: ["CMD-SHELL", "test -f /shared/ready"]
      interval: 100ms
      retries: 100
    stop_grace_period: 100ms
  web:
    image: berth-test/busybox:1
    command: ["sh", "-c", "test -f /shared/ready && echo db-was-healthy || echo db-not-ready; exec sleep 1000"]
    volumes: [shared:/shared]
    depends_on:
      db: {condition: service_healthy}
    stop_grace_period: 100ms
volumes:
  shared:
`)
	h.mustUp(p)
	web := spec.ContainerName(h.project, "web", 1)
	h.waitLog(web, "db-")
	if !strings.Contains(h.logs(web), "db-was-healthy") {
		t.Fatalf("web started before db was healthy: %q", h.logs(web))
	}
	st, err := h.e.runtime.State(t.Context(), spec.ContainerName(h.project, "db", 1))
	if err != nil || st.Health != "healthy" {
		t.Fatalf("db: %+v %v", st, err)
	}
}
