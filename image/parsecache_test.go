package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// What Get reads once per process (parsed) must still follow the store:
// a retag, a removed blob, and each caller's changes to its own Image.
func TestGetFollowsTheStore(t *testing.T) {
	testutil.RequiresRoot(t)
	s := mustOpen(t, t.TempDir())
	ctx := context.Background()
	one, err := s.Import(ctx, bytes.NewReader(mkTar(t, file("one", "1"))), "berth-test/cached:1", []string{`ENV A=1`, `LABEL l=1`})
	if err != nil {
		t.Fatal(err)
	}
	two, err := s.Import(ctx, bytes.NewReader(mkTar(t, file("two", "2"))), "berth-test/cached:2", []string{`ENV A=2`})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("berth-test/cached:1")
	if err != nil || !reflect.DeepEqual(got.Config.Env, []string{"A=1"}) {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	// A caller's changes to its Image are its own.
	got.Config.Env[0], got.Config.Labels["l"] = "A=changed", "changed"
	again, err := s.Get("berth-test/cached:1")
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != one.ID || !reflect.DeepEqual(again.Config.Env, []string{"A=1"}) || !reflect.DeepEqual(again.Config.Labels, map[string]string{"l": "1"}) {
		t.Errorf("Get after a caller changed its image: %+v, want %s with A=1, l=1", again, one.ID)
	}
	// A retag (index.json replaced) is seen at once.
	if err := s.Tag("berth-test/cached:2", "berth-test/cached:1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("berth-test/cached:1"); err != nil || got.ID != two.ID || !reflect.DeepEqual(got.Config.Env, []string{"A=2"}) {
		t.Errorf("Get after a retag: %+v, %v; want the image %s", got, err, two.ID)
	}
	// A manifest removed since it was read is missing, as when read.
	h, err := parseHash(two.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.blobPath(h)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("berth-test/cached:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of an image whose manifest is gone: %v, want ErrNotFound", err)
	}
	if _, err := s.Snapshots(ctx, two); !errors.Is(err, ErrNotFound) {
		t.Errorf("Snapshots of an image whose manifest is gone: %v, want ErrNotFound", err)
	}
}

// Get follows index.json by its content, whatever its identity: an index
// of the same size written behind the store's back (the two references
// swapped) is seen at once, and a change through the store drops the
// decoded index kept.
func TestGetFollowsIndexContent(t *testing.T) {
	testutil.RequiresRoot(t)
	s := mustOpen(t, t.TempDir())
	ctx := context.Background()
	one, err := s.Import(ctx, bytes.NewReader(mkTar(t, file("one", "1"))), "berth-test/cached:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	two, err := s.Import(ctx, bytes.NewReader(mkTar(t, file("two", "2"))), "berth-test/cached:2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("berth-test/cached:1"); err != nil || got.ID != one.ID {
		t.Fatalf("Get: %+v, %v; want %s", got, err, one.ID)
	}
	raw, err := os.ReadFile(s.path("index.json"))
	if err != nil {
		t.Fatal(err)
	}
	swapped := strings.NewReplacer("berth-test/cached:1", "berth-test/cached:2", "berth-test/cached:2", "berth-test/cached:1").Replace(string(raw))
	if len(swapped) != len(raw) || swapped == string(raw) {
		t.Fatalf("swapped index: %d bytes from %d", len(swapped), len(raw))
	}
	if err := writeFileAtomic(s.path("index.json"), []byte(swapped)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("berth-test/cached:1"); err != nil || got.ID != two.ID {
		t.Errorf("Get after index.json changed: %+v, %v; want %s", got, err, two.ID)
	}
	if err := s.Tag("berth-test/cached:1", "berth-test/cached:3"); err != nil {
		t.Fatal(err)
	}
	s.parsed.mu.Lock()
	kept := s.parsed.index != nil || s.parsed.indexRaw != nil
	s.parsed.mu.Unlock()
	if kept {
		t.Error("a change of the index through the store left the decoded index kept")
	}
}

// What Get keeps of images is bounded: an image whose manifest is gone
// is forgotten, and past maxParsedImages the least recently used goes.
func TestParsedImagesPrunedAndBounded(t *testing.T) {
	testutil.RequiresRoot(t)
	s := mustOpen(t, t.TempDir())
	ctx := context.Background()
	img, err := s.Import(ctx, bytes.NewReader(mkTar(t, file("one", "1"))), "berth-test/kept:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := parseHash(img.Digest)
	if err != nil {
		t.Fatal(err)
	}
	kept := func(d v1.Hash) bool {
		s.parsed.mu.Lock()
		defer s.parsed.mu.Unlock()
		_, ok := s.parsed.images[d]
		return ok
	}
	// Others, kept before: the first used least recently, the last most.
	fake := func(i int) v1.Hash {
		return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", i)}
	}
	s.parsed.mu.Lock()
	s.parsed.images = map[v1.Hash]*parsedImage{}
	for i := range maxParsedImages {
		s.parsed.uses++
		s.parsed.images[fake(i)] = &parsedImage{used: s.parsed.uses}
	}
	s.parsed.images[fake(0)].used = s.parsed.uses + 1 // used again last
	s.parsed.uses++
	s.parsed.mu.Unlock()
	if _, err := s.Get("berth-test/kept:1"); err != nil {
		t.Fatal(err)
	}
	s.parsed.mu.Lock()
	n := len(s.parsed.images)
	s.parsed.mu.Unlock()
	if n != maxParsedImages || !kept(digest) || kept(fake(1)) || !kept(fake(0)) {
		t.Errorf("kept %d images (the new one %v, the least recently used %v, the most %v); want %d, the least recently used gone",
			n, kept(digest), kept(fake(1)), kept(fake(0)), maxParsedImages)
	}
	// Its config gone, then its manifest: not found, as when read.
	cfg, err := parseHash(img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.blobPath(cfg), s.blobPath(cfg)+".aside"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("berth-test/kept:1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an image whose config is gone: %v, want ErrNotFound", err)
	}
	if err := os.Rename(s.blobPath(cfg)+".aside", s.blobPath(cfg)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("berth-test/kept:1"); err != nil {
		t.Fatalf("Get with its config back: %v", err)
	}
	if err := os.Remove(s.blobPath(digest)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("berth-test/kept:1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an image whose manifest is gone: %v, want ErrNotFound", err)
	}
	if kept(digest) {
		t.Error("an image whose manifest is gone is still kept")
	}
}
