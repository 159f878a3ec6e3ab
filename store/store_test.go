package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, root string) *Store {
	t.Helper()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContainerRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	c := Container{ID: NewID(), Name: "p-web-1", Project: "p", Service: "web", Number: 1, ConfigHash: "h", ImageRef: "r", ImageID: "sha256:x", Spec: []byte(`{"a":1}`), CreatedAt: time.Unix(5, 0)}
	if err := s.PutContainer(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Container(ctx, "p-web-1")
	if err != nil || got.ID != c.ID || got.ConfigHash != "h" || string(got.Spec) != `{"a":1}` || got.ExitCode != nil || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("got %+v, %v", got, err)
	}
	at := time.Unix(9, 0)
	if err := s.RecordExit(ctx, "p-web-1", 3, at); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Container(ctx, "p-web-1")
	if got.ExitCode == nil || *got.ExitCode != 3 || !got.FinishedAt.Equal(at) {
		t.Fatalf("exit not recorded: %+v", got)
	}
	if list, _ := s.Containers(ctx, "other"); len(list) != 0 {
		t.Fatalf("project filter: %v", list)
	}
	if err := s.DeleteContainer(ctx, "p-web-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Container(ctx, "p-web-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
}

// Two processes' worth of stores allocating at once never share a subnet
// or an address.
func TestAllocationIsExclusive(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	a, b := open(t, root), open(t, root)
	next := func(used []string) int { return len(used) }
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		for _, s := range []*Store{a, b} {
			wg.Add(1)
			go func(s *Store, i int) {
				defer wg.Done()
				name := fmt.Sprintf("n%d-%p", i, s)
				_, err := s.AllocateNetwork(ctx, Network{Name: name, Project: "p", Key: name, Bridge: name}, func(used []string) (Addressing, error) {
					n := next(used)
					return Addressing{Subnet: fmt.Sprintf("10.0.%d.0/24", n), Gateway: fmt.Sprintf("10.0.%d.1", n)}, nil
				})
				errs <- err
			}(s, i)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	nets, _ := a.Networks(ctx, "p")
	seen := map[string]bool{}
	for _, n := range nets {
		if seen[n.Subnet] {
			t.Fatalf("subnet %s allocated twice", n.Subnet)
		}
		seen[n.Subnet] = true
	}
	if len(nets) != 40 {
		t.Fatalf("want 40 networks, got %d", len(nets))
	}
	// Endpoints: stable per container, distinct per network.
	pick := func(used []string) (string, error) { return fmt.Sprintf("10.0.0.%d", len(used)+2), nil }
	first, _ := a.AllocateEndpoint(ctx, "c1", nets[0].Name, "default", pick)
	again, _ := b.AllocateEndpoint(ctx, "c1", nets[0].Name, "default", pick)
	other, _ := b.AllocateEndpoint(ctx, "c2", nets[0].Name, "default", pick)
	if first != again || first == other {
		t.Fatalf("endpoints: c1 %s then %s, c2 %s", first, again, other)
	}
	if err := a.DeleteNetwork(ctx, nets[0].Name); err != nil {
		t.Fatal(err)
	}
	if eps, _ := a.Endpoints(ctx); len(eps) != 0 {
		t.Fatalf("endpoints survive their network: %v", eps)
	}
}

func TestLockSerialises(t *testing.T) {
	run := t.TempDir()
	unlock, err := LockProject(context.Background(), run, "p")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := LockProject(context.Background(), run, "p")
		if err == nil {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("second lock taken while the first is held")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	<-got
	// A wait for the lock ends with its context.
	held, _ := LockProject(context.Background(), run, "p")
	defer held()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := LockProject(ctx, run, "p"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the wait to end with its context, got %v", err)
	}
}

func TestPorts(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	web := []Port{{Protocol: "tcp", HostPort: 8080, ContainerPort: 80}, {Protocol: "udp", HostIP: "127.0.0.1", HostPort: 53, ContainerPort: 53}}
	if err := s.SetPorts(ctx, "web", web); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPorts(ctx, "other", []Port{{Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 1}}); !errors.Is(err, ErrPortTaken) {
		t.Fatalf("a port published on every address is taken on each: %v", err)
	}
	if err := s.SetPorts(ctx, "other", []Port{{Protocol: "tcp", HostPort: 53, ContainerPort: 1}}); err != nil {
		t.Fatalf("another protocol is another port: %v", err)
	}
	if err := s.SetPorts(ctx, "web", web[:1]); err != nil {
		t.Fatalf("a container may republish its own ports: %v", err)
	}
	got, _ := s.Ports(ctx, "web")
	if len(got) != 1 || got[0].HostPort != 8080 {
		t.Fatalf("ports of web: %+v", got)
	}
	if err := s.DeleteContainer(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Ports(ctx, ""); len(all) != 1 || all[0].Container != "other" {
		t.Fatalf("ports left: %+v", all)
	}
}

// A database made by schema 1 is migrated in place, keeping its rows.
func TestMigrationKeepsData(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := open(t, root)
	if _, err := s.AllocateNetwork(ctx, Network{Name: "n", Project: "p", Key: "default", Bridge: "br"}, func([]string) (Addressing, error) { return Addressing{Subnet: "10.0.0.0/24", Gateway: "10.0.0.1"}, nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.PutContainer(ctx, Container{ID: NewID(), Name: "old", Project: "p", Service: "s", Number: 1, Spec: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`PRAGMA user_version = 1; ALTER TABLE containers DROP COLUMN labels; DROP INDEX containers_id; ALTER TABLE containers DROP COLUMN id; ALTER TABLE endpoints DROP COLUMN key; ALTER TABLE endpoints DROP COLUMN address6; ALTER TABLE networks DROP COLUMN subnet6; ALTER TABLE networks DROP COLUMN gateway6; ALTER TABLE volumes DROP COLUMN labels; ALTER TABLE networks DROP COLUMN labels; ALTER TABLE networks DROP COLUMN ip_range; ALTER TABLE networks DROP COLUMN mtu; DROP TABLE ports; DROP TABLE events`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := open(t, root)
	n, err := s2.Network(ctx, "n")
	if err != nil || n.Subnet != "10.0.0.0/24" {
		t.Fatalf("after migration: %+v %v", n, err)
	}
	if err := s2.SetPorts(ctx, "c", nil); err != nil {
		t.Fatalf("ports table missing after migration: %v", err)
	}
	if c, err := s2.Container(ctx, "old"); err != nil || len(c.ID) != 64 {
		t.Fatalf("a container made before IDs must get one: %+v %v", c, err)
	}
}

func TestEndpoint6(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	if _, err := s.AllocateNetwork(ctx, Network{Name: "n", Project: "p", Key: "n", Bridge: "b"}, func(used []string) (Addressing, error) {
		return Addressing{Subnet: "10.0.0.0/24", Gateway: "10.0.0.1", Subnet6: "fd00::/64", Gateway6: "fd00::1"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	pick := func(used []string) (string, error) { return fmt.Sprintf("fd00::%d", len(used)+2), nil }
	if _, err := s.AllocateEndpoint6(ctx, "c1", "n", pick); err == nil {
		t.Fatal("an IPv6 address before the endpoint exists")
	}
	s.AllocateEndpoint(ctx, "c1", "n", "n", func([]string) (string, error) { return "10.0.0.2", nil })
	s.AllocateEndpoint(ctx, "c2", "n", "n", func([]string) (string, error) { return "10.0.0.3", nil })
	a, _ := s.AllocateEndpoint6(ctx, "c1", "n", pick)
	again, _ := s.AllocateEndpoint6(ctx, "c1", "n", pick)
	b, _ := s.AllocateEndpoint6(ctx, "c2", "n", pick)
	if a != "fd00::2" || again != a || b != "fd00::3" {
		t.Fatalf("v6 endpoints %s %s %s", a, again, b)
	}
	n, _ := s.Network(ctx, "n")
	if n.Subnet6 != "fd00::/64" || n.Gateway6 != "fd00::1" {
		t.Fatalf("network: %+v", n)
	}
}

func TestOpenCurrentNeverMigrates(t *testing.T) {
	root := t.TempDir()
	if _, err := OpenCurrent(root); !errors.Is(err, ErrSchema) {
		t.Fatalf("a fresh database is not of the current schema: %v", err)
	}
	open(t, root) // Open migrates
	s, err := OpenCurrent(root)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A container recorded before labels were (schema 3) gets, in place, the
// labels its columns tell; one recorded now keeps the labels it was given.
func TestMigrationLabelsContainers(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := open(t, root)
	if err := s.PutContainer(ctx, Container{ID: NewID(), Name: "p-web-2", Project: "p", Service: "web", Number: 2, Spec: []byte("{}"),
		Labels: map[string]string{"x": "gone"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`PRAGMA user_version = 3; ALTER TABLE containers DROP COLUMN labels; DROP TABLE events`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := open(t, root)
	c, err := s2.Container(ctx, "p-web-2")
	want := map[string]string{"com.docker.compose.project": "p", "com.docker.compose.service": "web",
		"com.docker.compose.container-number": "2", "com.docker.compose.oneoff": "False"}
	if err != nil || fmt.Sprint(c.Labels) != fmt.Sprint(want) {
		t.Fatalf("labels after migration: %v %v, want %v", c.Labels, err, want)
	}
	labels := map[string]string{"com.docker.compose.project.config_files": "/a/compose.yaml", "tier": "front"}
	if err := s2.PutContainer(ctx, Container{ID: NewID(), Name: "p-web-1", Project: "p", Service: "web", Number: 1, Spec: []byte("{}"), Labels: labels}); err != nil {
		t.Fatal(err)
	}
	if c, err := s2.Container(ctx, "p-web-1"); err != nil || fmt.Sprint(c.Labels) != fmt.Sprint(labels) {
		t.Fatalf("labels round trip: %v %v", c.Labels, err)
	}
}

// SetLabel changes one label of a container's record, keeping the others;
// "" removes it; an unknown container is ErrNotFound.
func TestSetLabel(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	c := Container{ID: NewID(), Name: "p-web-1", Project: "p", Service: "web", Number: 1, Spec: []byte("{}"),
		Labels: map[string]string{"a": "1", "dev.berth.contents": "bind ./conf=x"}}
	if err := s.PutContainer(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabel(ctx, "p-web-1", "dev.berth.contents", "bind ./conf=y"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Container(ctx, "p-web-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels["dev.berth.contents"] != "bind ./conf=y" || got.Labels["a"] != "1" || got.ID != c.ID {
		t.Fatalf("labels = %v", got.Labels)
	}
	if err := s.SetLabel(ctx, "p-web-1", "a", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Container(ctx, "p-web-1"); len(got.Labels) != 1 {
		t.Fatalf("after removal: %v", got.Labels)
	}
	if err := s.SetLabel(ctx, "p-nope-1", "a", "1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown container: %v", err)
	}
}

// berth's own connections sync each commit to the disk; a shim's
// (OpenCurrent), which records only exit codes and events, does not wait
// for the disk.
func TestOnlyShimsSkipTheSync(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		open func(string) (*Store, error)
		want int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{{Open, 2}, {OpenCurrent, 1}} {
		s, err := c.open(root)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := s.db.QueryRow(`PRAGMA synchronous`).Scan(&got); err != nil || got != c.want {
			t.Errorf("synchronous = %d (%v), want %d", got, err, c.want)
		}
		s.Close()
	}
}
