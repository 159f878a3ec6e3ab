package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The queries of a container's creation run through statements prepared
// once per store (each prepared statement is kept and used again), and a
// kept statement reads what was written after its preparation, by this
// store or another connection, inside and outside a transaction.
func TestPreparedStatementsReadFreshRecords(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, other := open(t, root), open(t, root)
	for _, q := range txQueries {
		if s.cached(q) == nil {
			t.Errorf("not prepared when the store opened: %s", q)
		}
	}
	if _, err := s.Container(ctx, "p-s-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before it is recorded: %v", err)
	}
	byName := s.cached(`SELECT ` + containerCols + ` FROM containers WHERE name = ?`)
	if byName == nil {
		t.Fatal("the lookup by name was not kept prepared")
	}
	if err := other.PutContainer(ctx, Container{ID: NewID(), Name: "p-s-1", Project: "p", Service: "s", Number: 1, Spec: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Container(ctx, "p-s-1"); err != nil || c.Project != "p" {
		t.Fatalf("written by another connection after the preparation: %+v, %v", c, err)
	}
	if again := s.cached(`SELECT ` + containerCols + ` FROM containers WHERE name = ?`); again != byName {
		t.Error("the lookup by name was prepared again")
	}
	// PutContainer's owner check (a kept statement in a transaction) sees
	// the other connection's record.
	err := s.PutContainer(ctx, Container{ID: NewID(), Name: "p-s-1", Project: "q", Service: "s", Number: 1, Spec: []byte("{}")})
	if !errors.Is(err, ErrNameInUse) {
		t.Fatalf("another project's name: %v, want ErrNameInUse", err)
	}
	if err := s.Created(ctx, "p-s-1", "h1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if c, err := other.Container(ctx, "p-s-1"); err != nil || c.ConfigHash != "h1" {
		t.Fatalf("the hash set through a kept statement: %+v, %v", c, err)
	}
}

// A shim's store (OpenCurrent), opened for each event or exit it
// records, prepares none of the CLI's transaction statements.
func TestOpenCurrentPreparesNothing(t *testing.T) {
	root := t.TempDir()
	if s, err := Open(root); err != nil {
		t.Fatal(err)
	} else {
		s.Close()
	}
	s, err := OpenCurrent(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range txQueries {
		if s.cached(q) != nil {
			t.Errorf("prepared when a shim's store opened: %s", q)
		}
	}
}

// AllocateEndpoint reads an address PutContainer claimed through a kept
// statement (every container's creation reads its own back).
func TestAllocateEndpointReadsThroughAKeptStatement(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	_, err := s.AllocateNetwork(ctx, Network{Name: "p_default", Project: "p", Key: "default", Bridge: "br-test"},
		func([]string) (Addressing, error) { return Addressing{Subnet: "10.1.0.0/24", Gateway: "10.1.0.1"}, nil })
	if err != nil {
		t.Fatal(err)
	}
	claim := EndpointClaim{Network: "p_default", Key: "default", Pick: func([]string) (string, error) { return "10.1.0.7", nil }}
	if err := s.PutContainer(ctx, Container{ID: NewID(), Name: "p-s-1", Project: "p", Service: "s", Number: 1, Spec: []byte("{}")}, claim); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		addr, err := s.AllocateEndpoint(ctx, "p-s-1", "p_default", "default", func([]string) (string, error) { return "", errors.New("not claimed") })
		if err != nil || addr != "10.1.0.7" {
			t.Fatalf("the claimed address: %q, %v", addr, err)
		}
	}
	if s.cached(`SELECT address FROM endpoints WHERE container = ? AND network = ?`) == nil {
		t.Error("the read of a claimed address is not kept prepared")
	}
}
