package network

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// Hosts that share nothing but the table (as two berth processes on one
// root do) ensure bridges at the same instant: the host lock keeps each
// one's read of the bridges and its commit together, so every pair of
// bridges ends up isolated both ways. Without it, concurrent reads miss
// each other's bridges.
func TestHostLockSerialisesHosts(t *testing.T) {
	h := rootTest(t)
	const n = 6
	for round := range 5 {
		var bridges []Bridge
		for range n {
			sub := testSubnet(t)
			bridges = append(bridges, Bridge{Name: BridgeName(fmt.Sprintf("lock-%x", rand.Uint64())), Subnet: sub, Gateway: sub.Addr().Next()})
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i, b := range bridges {
			other := New(WithTable(h.Table())) // its own mutex: only the host lock orders it
			wg.Go(func() { <-start; errs[i] = other.EnsureBridge(b) })
		}
		close(start)
		wg.Wait()
		for _, b := range bridges {
			t.Cleanup(func() { h.RemoveBridge(b) })
		}
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		x, err := h.begin(false)
		if err != nil {
			t.Fatal(err)
		}
		drops := map[[2]string]bool{}
		for _, r := range x.rules {
			if r.Table.Family == nftables.TableFamilyIPv4 {
				if in, out, ok := isolationPair(r); ok {
					drops[[2]string{in, out}] = true
				}
			}
		}
		for _, a := range bridges {
			for _, b := range bridges {
				if a.Name != b.Name && !drops[[2]string{a.Name, b.Name}] {
					t.Errorf("round %d: nothing drops %s -> %s", round, a.Name, b.Name)
				}
			}
		}
	}
}

// isolationPair reads a forward rule `iifname IN oifname OUT ... drop`.
func isolationPair(r *nftables.Rule) (in, out string, ok bool) {
	if r.Chain == nil || r.Chain.Name != chainForward {
		return "", "", false
	}
	var meta *expr.Meta // the load the next comparison reads
	drop := false
	for _, e := range r.Exprs {
		switch e := e.(type) {
		case *expr.Meta:
			meta = e
			continue
		case *expr.Cmp:
			if meta != nil && e.Op == expr.CmpOpEq {
				name := string(bytes.TrimRight(e.Data, "\x00"))
				switch meta.Key {
				case expr.MetaKeyIIFNAME:
					in = name
				case expr.MetaKeyOIFNAME:
					out = name
				}
			}
		case *expr.Verdict:
			drop = e.Kind == expr.VerdictDrop
		}
		meta = nil
	}
	return in, out, drop && in != "" && out != ""
}
