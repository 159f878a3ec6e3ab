package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// peerHost is an Engine over a store of its own (no kernel): enough for
// the /etc/hosts peers.
func peerHost(t *testing.T) (*Engine, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, err = st.AllocateNetwork(context.Background(), store.Network{Name: "shop_default", Project: "shop", Key: "default", Bridge: "br-test"},
		func([]string) (store.Addressing, error) {
			return store.Addressing{Subnet: "10.1.0.0/24", Gateway: "10.1.0.1"}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{store: st}, st
}

// putPeer records container name of service svc on shop_default at addr,
// as Create does.
func putPeer(t *testing.T, st *store.Store, name string, svc spec.Service, addr string) {
	t.Helper()
	claim := store.EndpointClaim{Network: "shop_default", Key: "default", Pick: func([]string) (string, error) { return addr, nil }}
	err := st.PutContainer(context.Background(), store.Container{ID: store.NewID(), Name: name, Project: "shop", Service: svc.Name, Number: 1,
		Spec: svc.Canonical(), CreatedAt: time.Now(), Labels: map[string]string{}}, claim)
	if err != nil {
		t.Fatal(err)
	}
}

// hostsNow renders name's /etc/hosts the way a creation does.
func hostsNow(t *testing.T, e *Engine, name string) string {
	t.Helper()
	var out []byte
	err := e.withPeers(context.Background(), name, func(p *peers) (err error) {
		out, err = p.hostsFile(name)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// hostsFresh renders name's /etc/hosts from a fresh read of the host.
func hostsFresh(t *testing.T, e *Engine, name string) string {
	t.Helper()
	p, err := e.readPeers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.hostsFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// While creations are in flight, the host is read whole once; each
// creation's file, each publication and each removal by this process
// still shows in later files exactly as a fresh read of the host would
// show it. The snapshot goes with the last creation.
func TestPeersReadOncePerBurst(t *testing.T) {
	e, st := peerHost(t)
	ctx := context.Background()
	def := map[string]spec.ServiceNetwork{"default": {Aliases: []string{"al"}}}
	putPeer(t, st, "other-x-1", spec.Service{Name: "x", Networks: def}, "10.1.0.9")

	release := e.holdPeers()
	const n = 6
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("shop-s%d-1", i)
		svc := spec.Service{Name: fmt.Sprintf("s%d", i), Networks: def}
		if i%2 == 0 {
			svc.Ports = []spec.Port{{Target: 80}} // named by its service only once it holds its ports
		}
		putPeer(t, st, name, svc, fmt.Sprintf("10.1.0.%d", 10+i))
		if got, want := hostsNow(t, e, name), hostsFresh(t, e, name); got != want {
			t.Fatalf("%s from the snapshot:\n%s\nfrom the store:\n%s", name, got, want)
		}
		if i%2 == 0 {
			if err := st.SetPorts(ctx, name, []store.Port{{Container: name, Protocol: "tcp", HostPort: 8000 + i, ContainerPort: 80}}); err != nil {
				t.Fatal(err)
			}
			e.peerChanged(ctx, name)
		}
	}
	if err := st.Destroyed(ctx, "shop-s3-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	e.peerChanged(ctx, "shop-s3-1")
	putPeer(t, st, "shop-last-1", spec.Service{Name: "last", Networks: def}, "10.1.0.99")
	got, want := hostsNow(t, e, "shop-last-1"), hostsFresh(t, e, "shop-last-1")
	if got != want {
		t.Fatalf("from the snapshot:\n%s\nfrom the store:\n%s", got, want)
	}
	for _, name := range []string{"shop-s1-1 s1 al", "shop-s2-1 s2 al", "other-x-1 x al"} {
		if !strings.Contains(got, name) {
			t.Errorf("want %q in:\n%s", name, got)
		}
	}
	if strings.Contains(got, "shop-s3-1") {
		t.Errorf("a removed container is listed:\n%s", got)
	}
	if e.shared.reads != 1 {
		t.Errorf("the host was read whole %d times for one burst of creations, want 1", e.shared.reads)
	}
	release()
	if e.shared.p != nil {
		t.Fatal("the snapshot outlives the last creation")
	}
	// Out of a burst (or in the next one), what another process recorded is seen.
	putPeer(t, st, "other-y-1", spec.Service{Name: "y", Networks: def}, "10.1.0.50")
	if got := hostsNow(t, e, "shop-last-1"); !strings.Contains(got, "other-y-1") {
		t.Errorf("a container recorded after the burst is missing:\n%s", got)
	}
}

// A creation's own file names it as the record it put (Create's
// creating), not as the store has it by then: here another process has
// replaced the record since (a concurrent up of the project), and the
// creation's /etc/hosts still gives its hostname as its own ID's. Once
// the creation is done, the store's record is read again.
func TestCreationRendersItsOwnRecord(t *testing.T) {
	e, st := peerHost(t)
	ctx := context.Background()
	svc := spec.Service{Name: "web", Networks: map[string]spec.ServiceNetwork{"default": {}}}
	release := e.holdPeers()
	defer release()
	putPeer(t, st, "shop-web-1", svc, "10.1.0.2")
	mine, err := st.Container(ctx, "shop-web-1")
	if err != nil {
		t.Fatal(err)
	}
	done := e.creating(mine)
	putPeer(t, st, "shop-web-1", svc, "10.1.0.2") // another process's record, another ID
	theirs, err := st.Container(ctx, "shop-web-1")
	if err != nil || theirs.ID == mine.ID {
		t.Fatalf("the replaced record: %v, %v", theirs.ID, err)
	}
	putPeer(t, st, "shop-worker-1", spec.Service{Name: "worker", Networks: svc.Networks}, "10.1.0.3") // a peer on its network
	line := func(id string) string { return "10.1.0.2\t" + id[:12] + " shop-web-1 web\n" }
	got := hostsNow(t, e, "shop-web-1") // read whole, its record swapped in
	if !strings.Contains(got, line(mine.ID)) {
		t.Errorf("the creation's file:\n%s\nwant the line %q", got, line(mine.ID))
	}
	if again := hostsNow(t, e, "shop-web-1"); again != got { // from the snapshot, refreshed by name
		t.Errorf("the file read whole:\n%s\nfrom the snapshot:\n%s", got, again)
	}
	done()
	if got := hostsNow(t, e, "shop-web-1"); !strings.Contains(got, line(theirs.ID)) {
		t.Errorf("after the creation:\n%s\nwant the line %q", got, line(theirs.ID))
	}
}
