package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/spec"
)

// Two networks, three services: front reaches back by its alias on the
// network they share (once its server listens: depends_on waits for its
// start only) and cannot reach db, which is only on the other
// network, by address or by name; a service on an internal network cannot
// even use a published port, which every ordinary network may.
func TestNetworksIsolateAndAlias(t *testing.T) {
	h := newHost(t)
	port := testutil.FreePort(t)
	p := h.load(fmt.Sprintf(`
services:
  front:
    image: berth-test/busybox:1
    command: ["sh", "-c", "until wget -qO- http://api:8000/; do sleep 0.1; done && echo front-reached-api; grep -qw db /etc/hosts && echo front-knows-db || echo front-no-db-name; exec sleep 1000"]
    networks: [frontnet]
    depends_on: [back]
  back:
    image: berth-test/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo back-ok > /www/index.html; exec httpd -f -p 8000 -h /www"]
    networks:
      frontnet:
        aliases: [api]
      backnet: {}
  db:
    image: berth-test/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo db-ok > /www/index.html; exec httpd -f -p 8000 -h /www"]
    networks: [backnet]
    ports: ["%d:8000"]
  sealed:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
    networks: [sealednet]
networks:
  frontnet: {}
  backnet: {}
  sealednet:
    internal: true
`, port))
	h.mustUp(p)
	front := spec.ContainerName(h.project, "front", 1)
	h.waitLog(front, "front-reached-api")
	h.waitLog(front, "front-no-db-name")
	dbIP := h.address(spec.ContainerName(h.project, "db", 1), h.project+"_backnet")
	if out := h.exec(front, "timeout 3 wget -qO- http://"+dbIP+":8000/ || echo unreachable"); !strings.Contains(out, "unreachable") {
		t.Errorf("front reached db across networks: %q", out)
	}
	gw := func(net string) string {
		n, err := h.e.store.Network(context.Background(), h.project+"_"+net)
		if err != nil {
			t.Fatal(err)
		}
		return n.Gateway
	}
	if out := h.exec(front, fmt.Sprintf("timeout 3 wget -qO- http://%s:%d/ || echo unreachable", gw("frontnet"), port)); !strings.Contains(out, "db-ok") {
		t.Errorf("front cannot use db's published port: %q", out)
	}
	sealed := spec.ContainerName(h.project, "sealed", 1)
	if out := h.exec(sealed, fmt.Sprintf("timeout 3 wget -qO- http://%s:%d/ || echo unreachable", gw("sealednet"), port)); !strings.Contains(out, "unreachable") {
		t.Errorf("an internal network reached out: %q", out)
	}
}

// Published ports in every short form answer from the host's loopback and
// its other addresses; an ephemeral one is recorded and reported.
func TestPublishedPortForms(t *testing.T) {
	h := newHost(t)
	fixed := testutil.FreePort(t)
	local := testutil.FreePort(t)
	udp := testutil.FreePort(t)
	p := h.load(fmt.Sprintf(`
services:
  web:
    image: berth-test/busybox:1
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html; udpecho 53 & exec httpd -f -p 80 -h /www"]
    ports:
      - "%d:80"
      - "127.0.0.1:%d:80"
      - "80"
      - "%d:53/udp"
`, fixed, local, udp))
	h.mustUp(p)
	name := spec.ContainerName(h.project, "web", 1)
	ports, err := h.e.store.Ports(context.Background(), name)
	if err != nil || len(ports) != 4 {
		t.Fatalf("recorded ports: %+v %v", ports, err)
	}
	var ephemeral int
	for _, p := range ports {
		if p.HostPort != fixed && p.HostPort != local && p.HostPort != udp {
			ephemeral = p.HostPort
		}
	}
	if ephemeral == 0 {
		t.Fatalf("no ephemeral port among %+v", ports)
	}
	rec, err := h.e.store.Container(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	want := rec.ID[:12] // the default hostname: the container ID's first 12 digits
	hostAddr := nonLoopbackAddr(t)
	for _, url := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/", fixed),
		fmt.Sprintf("http://%s:%d/", hostAddr, fixed),
		fmt.Sprintf("http://127.0.0.1:%d/", local),
		fmt.Sprintf("http://127.0.0.1:%d/", ephemeral),
	} {
		if got := testutil.HTTPGet(t, url); got != want {
			t.Errorf("GET %s = %q, want the container's hostname %q", url, got, want)
		}
	}
	if _, err := http.Get(fmt.Sprintf("http://%s:%d/", hostAddr, local)); err == nil {
		t.Errorf("a port published on 127.0.0.1 answered on %s", hostAddr)
	}
	if got := udpAsk(t, fmt.Sprintf("127.0.0.1:%d", udp)); !strings.Contains(got, "udp-pong") {
		t.Errorf("udp: %q", got)
	}
}

// nonLoopbackAddr is an IPv4 address of this host other than loopback.
func nonLoopbackAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !strings.HasPrefix(n.IP.String(), "10.2") {
			return n.IP.String()
		}
	}
	t.Fatal("this host has no non-loopback IPv4 address")
	return ""
}

func udpAsk(t *testing.T, addr string) string {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(500 * time.Millisecond))
		c.Write([]byte("ping\n"))
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		c.Close()
		if err == nil {
			return string(buf[:n])
		}
	}
	return ""
}

// hostname, domainname, extra_hosts (host-gateway too), dns, dns_search,
// dns_opt and mac_address, seen from inside the container.
func TestServiceNetworkSettings(t *testing.T) {
	h := newHost(t)
	p := h.load(`
services:
  box:
    image: berth-test/busybox:1
    hostname: box1
    domainname: example.test
    mac_address: "02:42:de:ad:be:ef"
    extra_hosts:
      - "db.local:10.1.2.3"
      - "host.docker.internal:host-gateway"
    dns: [192.0.2.53]
    dns_search: [corp.test]
    dns_opt: ["ndots:2"]
    command: ["sh", "-c", "hostname; cat /proc/sys/kernel/domainname; cat /sys/class/net/eth0/address; grep -w db.local /etc/hosts; grep -w host.docker.internal /etc/hosts; grep -v '^#' /etc/resolv.conf; echo end; exec sleep 1000"]
`)
	h.mustUp(p)
	name := spec.ContainerName(h.project, "box", 1)
	h.waitLog(name, "end")
	gw, err := h.e.store.Network(context.Background(), h.project+"_default")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"box1", "example.test", "02:42:de:ad:be:ef", "10.1.2.3\tdb.local", gw.Gateway + "\thost.docker.internal",
		"nameserver 192.0.2.53", "search corp.test", "options ndots:2", "end"}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(h.logs(name)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got = append(got, l)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("inside:\n got %q\nwant %q", got, want)
	}
}

// A network with enable_ipv6 gives containers IPv6 addresses (given or
// chosen) that peers reach by address and by name.
func TestDualStack(t *testing.T) {
	h := newHost(t)
	prefix := fmt.Sprintf("fd00:b3e7:%x:", 0x1000+rand.IntN(0xe000)) // not berth's own pool, fd00:b3e7:5c2f::/48
	p := h.load(strings.ReplaceAll(`
services:
  server:
    image: berth-test/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo v6-ok > /www/index.html; exec httpd -f -p 8000 -h /www"]
    networks:
      dual:
        ipv6_address: fd00:b3e7:77::42
  client:
    image: berth-test/busybox:1
    command: ["sh", "-c", "grep -q 'fd00:b3e7:77::42.*server' /etc/hosts && echo named-v6; until timeout 3 wget -qO- 'http://[fd00:b3e7:77::42]:8000/'; do sleep 0.2; done; exec sleep 1000"]
    networks: [dual]
    depends_on: [server]
networks:
  dual:
    enable_ipv6: true
    ipam:
      config:
        - subnet: fd00:b3e7:77::/64
`, "fd00:b3e7:77:", prefix))
	h.mustUp(p)
	client := spec.ContainerName(h.project, "client", 1)
	h.waitLog(client, "v6-ok")
	if !strings.Contains(h.logs(client), "named-v6") || !strings.Contains(h.logs(client), "v6-ok") {
		t.Errorf("the server's IPv6 address is not in the client's /etc/hosts:\n%s", h.logs(client))
	}
}

// Two projects on one external network resolve each other by container
// name, service name and alias, and a container made later in one project
// appears in the other's /etc/hosts.
func TestDiscoveryAcrossProjectsOnASharedNetwork(t *testing.T) {
	h := newHost(t)
	shared := fmt.Sprintf("shared%d", rand.IntN(1<<20))
	if err := h.e.CreateNetwork(context.Background(), "", shared, spec.Network{Name: shared, Driver: "bridge"}); err != nil {
		t.Fatal(err)
	}
	other := &host{t: t, e: h.e, dir: t.TempDir(), project: h.project + "b"}
	t.Cleanup(func() {
		other.down(true)
		h.down(true)
		if err := h.e.RemoveNetwork(context.Background(), shared); err != nil {
			t.Error(err)
		}
	})
	h.mustUp(h.load(`
services:
  proxy:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
    networks: [edge]
networks:
  edge:
    name: ` + shared + `
    external: true
`))
	other.mustUp(other.load(`
services:
  app:
    image: berth-test/busybox:1
    command: ["sleep", "1000"]
    networks:
      edge:
        aliases: [application]
networks:
  edge:
    name: ` + shared + `
    external: true
`))
	hosts, err := os.ReadFile(filepath.Join(h.e.etcDir(spec.ContainerName(h.project, "proxy", 1)), "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{spec.ContainerName(other.project, "app", 1), "application"} {
		if !strings.Contains(string(hosts), name) {
			t.Errorf("proxy's /etc/hosts lacks %s:\n%s", name, hosts)
		}
	}
	other.down(false)
	hosts, _ = os.ReadFile(filepath.Join(h.e.etcDir(spec.ContainerName(h.project, "proxy", 1)), "hosts"))
	if strings.Contains(string(hosts), "application") {
		t.Errorf("after the other project's down, proxy still resolves its app:\n%s", hosts)
	}
}
