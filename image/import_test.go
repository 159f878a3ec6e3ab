package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestImport(t *testing.T) {
	testutil.RequiresRoot(t)
	rootfs := testutil.BusyboxTar(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(rootfs)
	zw.Close()

	s := mustOpen(t, t.TempDir())
	ctx := context.Background()
	img, err := s.Import(ctx, bytes.NewReader(rootfs), "berth-test/imported:1", []string{`CMD ["/bin/sh"]`, `ENV A=b`})
	if err != nil {
		t.Fatal(err)
	}
	if img.Ref != "docker.io/berth-test/imported:1" || !reflect.DeepEqual(img.Config.Cmd, []string{"/bin/sh"}) || !reflect.DeepEqual(img.Config.Env, []string{"A=b"}) {
		t.Errorf("imported image: %+v", img)
	}
	if want := sha256Of(rootfs).String(); !reflect.DeepEqual(img.DiffIDs, []string{want}) {
		t.Errorf("diff IDs %v, want [%s]", img.DiffIDs, want)
	}
	for _, ref := range []string{"berth-test/imported:1", "docker.io/berth-test/imported:1", img.ID, strings.TrimPrefix(img.ID, "sha256:")[:12], img.ID[:20]} {
		got, err := s.Get(ref)
		if err != nil {
			t.Errorf("Get(%q): %v", ref, err)
			continue
		}
		if !reflect.DeepEqual(got, img) {
			t.Errorf("Get(%q) = %+v, want %+v", ref, got, img)
		}
	}
	snaps, err := s.Snapshots(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(snaps[0], "bin/busybox")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/busybox in the imported snapshot: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(snaps[0], "tmp")); err != nil || fi.Mode().Perm()|os.ModeSticky != fi.Mode().Perm()|os.ModeSticky || fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("tmp should keep its sticky bit: %v %v", fi, err)
	}

	// The same rootfs gzipped: another blob, the same layer content.
	zimg, err := s.Import(ctx, bytes.NewReader(gz.Bytes()), "berth-test/imported:gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(zimg.DiffIDs, img.DiffIDs) || zimg.ID == img.ID {
		t.Errorf("gzip import: diff IDs %v (want %v), ID %s", zimg.DiffIDs, img.DiffIDs, zimg.ID)
	}
	m, _, err := s.manifestAndConfig(mustHash(t, zimg.Digest))
	if err != nil || m.Layers[0].MediaType != compression(gzipped).mediaType() || m.Layers[0].Digest != sha256Of(gz.Bytes()) {
		t.Errorf("gzip layer descriptor: %+v, %v", m.Layers, err)
	}

	list, err := s.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("List: %d images, %v", len(list), err)
	}
	if err := s.Untag("berth-test/imported:1", zimg.ID); err != nil { // another image's entry: nothing goes
		t.Fatal(err)
	}
	if err := s.Untag("berth-test/imported:1", img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("berth-test/imported:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Untag: %v, want ErrNotFound", err)
	}
	if got, byID, err := s.Lookup(zimg.ID[len("sha256:"):][:12]); err != nil || !byID || got.ID != zimg.ID {
		t.Errorf("Lookup by ID prefix: %+v, byID %v, %v", got, byID, err)
	}
	if _, byID, err := s.Lookup("berth-test/imported:gz"); err != nil || byID {
		t.Errorf("Lookup by reference: byID %v, %v", byID, err)
	}
	if err := s.Untag("berth-test/imported:gz", zimg.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Errorf("List after removing everything: %+v", list)
	}
	if err := s.Untag("berth-test/imported:1", img.ID); err != nil {
		t.Errorf("second Untag: %v, want no error", err)
	}
}

func TestImportRejects(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	ctx := context.Background()
	if _, err := s.Import(ctx, strings.NewReader(""), "x", []string{"RUN true"}); !errors.Is(err, ErrInvalidChange) {
		t.Errorf("bad change: %v, want ErrInvalidChange", err)
	}
	if _, err := s.Import(ctx, strings.NewReader(""), "x@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", nil); err == nil {
		t.Error("importing under a digest reference succeeded")
	}
	if _, err := s.Import(ctx, strings.NewReader("\x1f\x8bnot gzip at all"), "x", nil); err == nil {
		t.Error("importing garbage succeeded")
	}
	assertEmptyDir(t, s.path("tmp"))
	assertEmptyDir(t, s.path("snapshots"))
}

func TestFindByIDPrefix(t *testing.T) {
	desc := func(ref, id string) v1.Descriptor {
		return v1.Descriptor{Annotations: map[string]string{annotationRefName: ref, annotationID: "sha256:" + id + strings.Repeat("0", 64-len(id))}}
	}
	ds := []v1.Descriptor{
		desc("docker.io/library/a:1", "abc1"),
		desc("docker.io/library/a:2", "abc1"), // same image, second tag
		desc("docker.io/library/b:1", "abc2"),
	}
	if d, byID, err := find(ds, "abc1"); err != nil || !byID || d.Annotations[annotationRefName] != "docker.io/library/a:1" {
		t.Errorf("find(abc1) = %v, %v, %v", d, byID, err)
	}
	if _, _, err := find(ds, "abc"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("find(abc) error = %v, want ErrAmbiguous", err)
	}
	if _, _, err := find(ds, "fff"); !errors.Is(err, ErrNotFound) {
		t.Errorf("find(fff) error = %v, want ErrNotFound", err)
	}
	if d, byID, err := find(ds, "b:1"); err != nil || byID || d.Annotations[annotationRefName] != "docker.io/library/b:1" {
		t.Errorf("find(b:1) = %v, %v, %v", d, byID, err)
	}
}

func mustHash(t *testing.T, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
