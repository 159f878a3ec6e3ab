package image

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
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
