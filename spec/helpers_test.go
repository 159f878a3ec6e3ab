package spec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeProject creates a temporary project directory holding files
// (relative name -> content) and returns its absolute path.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustLoad loads o, failing the test on error. A nil Environ is replaced by
// an empty one so that the host's environment never leaks into a test.
func mustLoad(t *testing.T, o LoadOptions) *Project {
	t.Helper()
	if o.Environ == nil {
		o.Environ = []string{}
	}
	p, err := Load(context.Background(), o)
	if err != nil {
		t.Fatalf("Load(%+v): %v", o, err)
	}
	return p
}

// loadErr loads o and returns the error, failing when there is none.
func loadErr(t *testing.T, o LoadOptions) error {
	t.Helper()
	if o.Environ == nil {
		o.Environ = []string{}
	}
	p, err := Load(context.Background(), o)
	if err == nil {
		t.Fatalf("Load(%+v) = %d services, want an error", o, len(p.Services))
	}
	return err
}

func mustService(t *testing.T, p *Project, name string) Service {
	t.Helper()
	s, ok := p.Service(name)
	if !ok {
		t.Fatalf("project %q has no service %q (has %v)", p.Name, name, serviceNames(p))
	}
	return *s
}

func serviceNames(p *Project) []string {
	var names []string
	for _, s := range p.Services {
		names = append(names, s.Name)
	}
	return names
}

// sameService fails the test, showing both canonical forms, when got and
// want differ.
func sameService(t *testing.T, got, want Service) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("service %q:\n got: %s\nwant: %s", want.Name, g, w)
	}
}

func ptr[T any](v T) *T { return &v }

// stackDir is the realistic web + api + db + cache stack in testdata.
func stackDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/stack")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// addr parses an address for a test's expectation.
func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// published parses a published port or range for a test's expectation.
func published(s string) PortRange {
	r, err := ParsePortRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// parsed parses canonical texts ("db.local:10.0.0.5", "service:db:ro")
// into values of a typed list, for a test's expectation.
func parsed[T any, P interface {
	*T
	UnmarshalText([]byte) error
}](texts ...string) []T {
	out := make([]T, len(texts))
	for i, s := range texts {
		if err := P(&out[i]).UnmarshalText([]byte(s)); err != nil {
			panic(err)
		}
	}
	return out
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sha256Hex(t *testing.T, s string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
