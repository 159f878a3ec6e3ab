package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	ggcrcompression "github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

func TestPushThenPull(t *testing.T) {
	img := smallImage(t, "pushed")
	s, orig := pulledStore(t, img, "test/src:1")
	target := newTestRegistry(t)
	ref := target.host + "/pushed/img:2"
	if err := s.Tag(orig.Ref, ref); err != nil {
		t.Fatal(err)
	}
	var states []string
	if err := s.Push(context.Background(), ref, PushOptions{Progress: func(p Progress) { states = append(states, p.State) }}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(states, ","), StateDone) {
		t.Errorf("push progress %v has no %q", states, StateDone)
	}
	fresh := mustOpen(t, t.TempDir())
	got, err := fresh.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != orig.Digest || got.ID != orig.ID {
		t.Errorf("pulled back %s/%s, pushed %s/%s", got.Digest, got.ID, orig.Digest, orig.ID)
	}
	info, err := s.Inspect(ref)
	if err != nil {
		t.Fatal(err)
	}
	want := target.host + "/pushed/img@" + orig.Digest
	if !slicesContains(info.RepoDigests, want) {
		t.Errorf("RepoDigests %v lack %s after the push", info.RepoDigests, want)
	}
	if err := s.Push(context.Background(), "nothing/here:1", PushOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("push of a missing image: %v", err)
	}
}

func slicesContains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func TestTagAndInspect(t *testing.T) {
	img := mkImage(t, "amd64", v1.Config{
		Cmd: []string{"sh"}, Env: []string{"A=b"}, WorkingDir: "/w", User: "1:2", StopSignal: "SIGTERM",
		Labels: map[string]string{"l": "v"}, ExposedPorts: map[string]struct{}{"80/tcp": {}}, Volumes: map[string]struct{}{"/data": {}},
	}, layerOf(t, mkTar(t, file("a", "b"))))
	s, orig := pulledStore(t, img, "test/inspect:1")
	if err := s.Tag(orig.ID[:19], "busybox:mine"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("docker.io/library/busybox:mine"); err != nil || got.ID != orig.ID {
		t.Fatalf("Get of the new tag: %+v %v", got, err)
	}
	if err := s.Tag(orig.Ref, "x@sha256:"+strings.Repeat("a", 64)); !errors.Is(err, ErrInvalidReference) {
		t.Errorf("tag with a digest: %v", err)
	}
	if err := s.Tag("missing:1", "y:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("tag of a missing image: %v", err)
	}

	info, err := s.Inspect("busybox:mine")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal([]InspectInfo{info})
	var docs []map[string]any
	if err := json.Unmarshal(raw, &docs); err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	cfg := d["Config"].(map[string]any)
	cf, _ := img.ConfigFile()
	checks := map[string][2]any{
		"Id":                  {d["Id"], orig.ID},
		"RepoTags":            {d["RepoTags"], []any{orig.Ref, "busybox:mine"}},
		"RepoDigests":         {d["RepoDigests"], []any{strings.Split(orig.Ref, ":1")[0] + "@" + orig.Digest}},
		"Os":                  {d["Os"], "linux"},
		"Architecture":        {d["Architecture"], "amd64"},
		"Size":                {d["Size"], float64(orig.Size)},
		"Config.Cmd":          {cfg["Cmd"], []any{"sh"}},
		"Config.ExposedPorts": {cfg["ExposedPorts"], map[string]any{"80/tcp": map[string]any{}}},
		"Config.Volumes":      {cfg["Volumes"], map[string]any{"/data": map[string]any{}}},
		"Config.Labels":       {cfg["Labels"], map[string]any{"l": "v"}},
		"Config.StopSignal":   {cfg["StopSignal"], "SIGTERM"},
		"RootFS":              {d["RootFS"], map[string]any{"Type": "layers", "Layers": []any{cf.RootFS.DiffIDs[0].String()}}},
	}
	for k, c := range checks {
		if !reflect.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %#v, want %#v", k, c[0], c[1])
		}
	}
	if orig.Size <= 0 || orig.Created.IsZero() && !cf.Created.IsZero() {
		t.Errorf("Size %d Created %v", orig.Size, orig.Created)
	}
	// What Inspect returns is the caller's: changing it changes neither
	// a later Inspect nor Get (both read a config kept once, see parsed).
	info.Config.Env[0], info.Config.Cmd[0], info.Config.Labels["l"] = "A=changed", "changed", "changed"
	info.Config.ExposedPorts["81/tcp"], info.Config.Volumes["/changed"] = struct{}{}, struct{}{}
	again, err := s.Inspect("busybox:mine")
	if err != nil {
		t.Fatal(err)
	}
	if c := again.Config; !reflect.DeepEqual(c.Env, []string{"A=b"}) || !reflect.DeepEqual(c.Cmd, []string{"sh"}) ||
		!reflect.DeepEqual(c.Labels, map[string]string{"l": "v"}) || len(c.ExposedPorts) != 1 || len(c.Volumes) != 1 {
		t.Errorf("Inspect after a caller changed its result: %+v", c)
	}
	if got, err := s.Get("busybox:mine"); err != nil || !reflect.DeepEqual(got.Config.Env, []string{"A=b"}) || got.Config.Labels["l"] != "v" {
		t.Errorf("Get after a caller changed Inspect's result: %+v, %v", got, err)
	}
}

func TestPullZstdLayer(t *testing.T) {
	plain := mkTar(t, dir("z/"), file("z/data", strings.Repeat("zstd ", 1000)))
	var z bytes.Buffer
	zw, _ := zstd.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(z.Bytes())), nil },
		tarball.WithCompression(ggcrcompression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := l.MediaType(); !strings.Contains(string(mt), "zstd") {
		t.Fatalf("layer media type %s", mt)
	}
	s, got := pulledStore(t, mkImage(t, "amd64", v1.Config{}, l), "test/zstd:1")
	snaps, err := s.Snapshots(context.Background(), got)
	if err != nil {
		t.Fatal(err)
	}
	assertFile(t, snaps[0]+"/z/data", strings.Repeat("zstd ", 1000))
	if got.DiffIDs[0] != sha256Of(plain).String() {
		t.Errorf("diff ID %s", got.DiffIDs[0])
	}
}

// countFiles counts the blobs and snapshots in a store.
func countFiles(t *testing.T, s *Store) (blobs, snaps int) {
	t.Helper()
	b, err := os.ReadDir(s.path("blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	sn, err := os.ReadDir(s.path("snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	return len(b), len(sn)
}

func TestCollect(t *testing.T) {
	ctx := context.Background()
	reg := newTestRegistry(t)
	base := layerOf(t, mkTar(t, file("base", "shared")))
	mk := func(tag string) v1.Image {
		return mkImage(t, "amd64", v1.Config{Cmd: []string{tag}}, base, layerOf(t, mkTar(t, file("own", tag))))
	}
	s := mustOpen(t, t.TempDir())
	pull := func(img v1.Image, repoTag string) *Image {
		t.Helper()
		got, err := s.Pull(ctx, reg.push(t, repoTag, img), PullOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	old := pull(mk("old"), "test/app:1")
	tagged := pull(mk("new"), "test/app:1") // old becomes dangling
	inUse := pull(mk("used"), "test/used:1")
	if err := s.Untag(inUse.Ref, inUse.ID); err != nil { // untagged, but a container uses it
		t.Fatal(err)
	}
	if err := s.Tag(old.ID, "test/dangling-then-tagged:1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Untag("test/dangling-then-tagged:1", old.ID); err != nil {
		t.Fatal(err)
	}
	dangling := mk("dangling")
	dgImg, err := s.Pull(ctx, reg.push(t, "test/other:1", dangling), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(tagged.ID, dgImg.Ref); err != nil { // dgImg becomes dangling
		t.Fatal(err)
	}
	list, _ := s.List()
	var untagged int
	for _, i := range list {
		if i.Ref == "" {
			untagged++
		}
	}
	if untagged != 1 {
		t.Fatalf("want one dangling image (%s), got %+v", dgImg.ID, list)
	}
	os.WriteFile(s.path("tmp", "blob-leftover"), []byte("crashed pull"), 0o600)

	keep := map[string]bool{inUse.ID: true}
	blobs0, snaps0 := countFiles(t, s)
	if err := s.Untag("", dgImg.ID); err != nil { // what `image prune` plans
		t.Fatal(err)
	}
	rep, err := s.Collect(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	blobs1, snaps1 := countFiles(t, s)
	// Gone: the dangling image's manifest, config, own layer blob and
	// snapshot; the same of old, which Remove took out of the index; the
	// in-use image's manifest and own layer blob (no reference names it;
	// its config and snapshots stay for the container). The shared base
	// stays.
	if rep.Blobs != blobs0-blobs1 || rep.Snapshots != snaps0-snaps1 || rep.Blobs != 8 || rep.Snapshots != 2 || rep.Reclaimed <= 0 {
		t.Errorf("report %+v; blobs %d->%d snapshots %d->%d", rep, blobs0, blobs1, snaps0, snaps1)
	}
	for _, ref := range []string{tagged.Ref, dgImg.Ref} {
		if _, err := s.Get(ref); err != nil {
			t.Errorf("tagged image %s pruned: %v", ref, err)
		}
	}
	if _, err := s.Snapshots(ctx, tagged); err != nil {
		t.Error(err)
	}
	for _, d := range inUse.DiffIDs {
		if dir, _ := s.snapshotDir(d); !isDir(dir) {
			t.Errorf("snapshot %s of the in-use image was pruned", d)
		}
	}
	assertEmptyDir(t, s.path("tmp"))
	verifyStore(t, s)

	for _, ref := range []string{tagged.Ref, dgImg.Ref} { // what `image prune -a` plans
		if err := s.Untag(ref, tagged.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err = s.Collect(ctx, keep); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Errorf("images left after prune -a: %+v", list)
	}
	blobs2, snaps2 := countFiles(t, s)
	if blobs2 != 1 || snaps2 != len(inUse.DiffIDs) {
		t.Errorf("after prune -a: %d blobs (want the in-use config) and %d snapshots (want %d)", blobs2, snaps2, len(inUse.DiffIDs))
	}
}

// A prune started while another store (another process) is half-way
// through a pull deletes nothing that pull needs.
func TestPruneDuringPull(t *testing.T) {
	img := smallImage(t, "concurrent")
	layers, _ := img.Layers()
	gated, _ := layers[1].Digest()
	arrived, release := make(chan struct{}), make(chan struct{})
	inner := quietRegistry()
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+gated.String()) {
			close(arrived)
			<-release
		}
		inner.ServeHTTP(w, r)
	}))
	ref := host + "/test/race:1"
	writeImage(t, ref, img)
	root := t.TempDir()
	pulled := make(chan error, 1)
	go func() {
		_, err := mustOpen(t, root, WithConcurrency(1)).Pull(context.Background(), ref, PullOptions{})
		pulled <- err
	}()
	<-arrived // the config and the first layer are in, the second is on its way
	pruned := make(chan error, 1)
	go func() {
		_, err := mustOpen(t, root).Collect(context.Background(), nil)
		pruned <- err
	}()
	time.Sleep(50 * time.Millisecond) // give the prune a chance to run too early
	close(release)
	if err := <-pulled; err != nil {
		t.Fatal(err)
	}
	if err := <-pruned; err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, root)
	got, err := s.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	wantImage(t, got, img, ref)
	verifyStore(t, s)
	for _, l := range layers {
		d, _ := l.Digest()
		if !s.hasBlob(d) {
			t.Errorf("layer blob %s lost to the concurrent prune", d)
		}
	}
}
