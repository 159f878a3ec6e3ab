package image

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"golang.org/x/sys/unix"
)

// busyboxImage is busybox plus two layers: one adding files, one deleting
// /etc/group (a whiteout) and hiding /home's lower content (opaque dir).
func busyboxImage(t *testing.T) v1.Image {
	t.Helper()
	extra := mkTar(t, dir("home/"), file("home/old", "old"), dir("etc/"), file("etc/motd", "hello"))
	top := mkTar(t,
		dir("etc/"), file("etc/.wh.group", ""),
		dir("home/"), file("home/.wh..wh..opq", ""), file("home/new", "new"),
	)
	return mkImage(t, runtime.GOARCH, v1.Config{
		Cmd:          []string{"/bin/sh"},
		Env:          []string{"PATH=/bin", "A=b"},
		WorkingDir:   "/home",
		User:         "nobody",
		StopSignal:   "SIGINT",
		Labels:       map[string]string{"org.example": "yes"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Volumes:      map[string]struct{}{"/data": {}},
	}, layerOf(t, testutil.BusyboxTar(t)), layerOf(t, extra), layerOf(t, top))
}

// wantImage checks that got describes img.
func wantImage(t *testing.T, got *Image, img v1.Image, ref string) {
	t.Helper()
	id, _ := img.ConfigName()
	dg, _ := img.Digest()
	if got.Ref != ref || got.ID != id.String() || got.Digest != dg.String() {
		t.Errorf("got ref %q id %s digest %s; want %q %s %s", got.Ref, got.ID, got.Digest, ref, id, dg)
	}
	cf, _ := img.ConfigFile()
	var diffIDs []string
	for _, d := range cf.RootFS.DiffIDs {
		diffIDs = append(diffIDs, d.String())
	}
	if !reflect.DeepEqual(got.DiffIDs, diffIDs) {
		t.Errorf("diff IDs %v, want %v", got.DiffIDs, diffIDs)
	}
	if want := configFrom(cf.Config); !reflect.DeepEqual(got.Config, want) {
		t.Errorf("config %+v, want %+v", got.Config, want)
	}
}

func TestPullByTagAndDigest(t *testing.T) {
	testutil.RequiresRoot(t)
	// The only root test here that makes a host object (an overlay mount).
	testutil.CheckLeaks(t)
	reg := newTestRegistry(t)
	img := busyboxImage(t)
	ref := reg.push(t, "test/busybox:v1", img)
	dg, _ := img.Digest()

	for _, pullRef := range []string{ref, reg.host + "/test/busybox@" + dg.String()} {
		t.Run(strings.TrimPrefix(pullRef, reg.host+"/"), func(t *testing.T) {
			s := mustOpen(t, t.TempDir())
			var mu sync.Mutex
			states := map[string][]string{}
			got, err := s.Pull(context.Background(), pullRef, PullOptions{Progress: func(p Progress) {
				mu.Lock()
				defer mu.Unlock()
				if n := len(states[p.Layer]); n == 0 || states[p.Layer][n-1] != p.State {
					states[p.Layer] = append(states[p.Layer], p.State)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			wantImage(t, got, img, pullRef)
			if got.Config.ExposedPorts[0] != "8080/tcp" || got.Config.Volumes[0] != "/data" || got.Config.WorkingDir != "/home" {
				t.Errorf("config not carried over: %+v", got.Config)
			}
			for layer, st := range states {
				if want := []string{StateWaiting, StateDownloading, StateVerifying, StateExtracting, StateDone}; !reflect.DeepEqual(st, want) {
					t.Errorf("layer %s went through %v, want %v", layer, st, want)
				}
			}
			if again, err := s.Get(pullRef); err != nil || again.ID != got.ID {
				t.Errorf("Get(%q) = %v, %v", pullRef, again, err)
			}
			checkBusyboxSnapshots(t, s, got)
		})
	}
}

// checkBusyboxSnapshots looks at each layer's snapshot and at their stack
// mounted as overlayfs, the way containers will see it.
func checkBusyboxSnapshots(t *testing.T, s *Store, img *Image) {
	t.Helper()
	snaps, err := s.Snapshots(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 3 {
		t.Fatalf("got %d snapshots, want 3", len(snaps))
	}
	for i, d := range snaps {
		if want := filepath.Join(s.path("snapshots"), strings.TrimPrefix(img.DiffIDs[i], "sha256:")); d != want {
			t.Errorf("snapshot %d is %s, want %s", i, d, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(snaps[0], "bin/busybox")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("bin/busybox in the bottom snapshot: %v %v", fi, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(snaps[2], "etc/group"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("etc/group in the top snapshot should be a 0:0 char device whiteout: mode %o rdev %d, %v", st.Mode, st.Rdev, err)
	}
	buf := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(snaps[2], "home"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("home in the top snapshot should be opaque: %q %v", buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(snaps[2], "home/.wh..wh..opq")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the opaque marker itself must not be extracted: %v", err)
	}

	mnt := t.TempDir()
	lower := snaps[2] + ":" + snaps[1] + ":" + snaps[0]
	if err := unix.Mount("overlay", mnt, "overlay", unix.MS_RDONLY, "lowerdir="+lower); err != nil {
		t.Fatalf("mounting the snapshots as overlayfs: %v", err)
	}
	defer func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmounting %s: %v", mnt, err)
		}
	}()
	for p, want := range map[string]bool{"bin/busybox": true, "etc/passwd": true, "etc/motd": true, "etc/group": false, "home/new": true, "home/old": false} {
		_, err := os.Stat(filepath.Join(mnt, p))
		if (err == nil) != want {
			t.Errorf("in the overlay, %s exists = %v, want %v", p, err == nil, want)
		}
	}
}

func TestPullMultiPlatform(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	bb := layerOf(t, testutil.BusyboxTar(t))
	imgs := map[string]v1.Image{}
	for _, arch := range []string{"amd64", "arm64"} {
		imgs[arch] = mkImage(t, arch, v1.Config{Cmd: []string{"/bin/" + arch}}, bb, layerOf(t, mkTar(t, file("arch", arch))))
	}
	host, other := runtime.GOARCH, "arm64"
	if host == "arm64" {
		other = "amd64"
	}
	if imgs[host] == nil {
		t.Skipf("the test index has no %s image", host)
	}
	ref, idx := reg.pushIndex(t, "test/multi:1", imgs["amd64"], imgs["arm64"])
	idxDigest, _ := idx.Digest()

	s := mustOpen(t, t.TempDir())
	for _, tc := range []struct{ platform, arch string }{{"", host}, {"linux/" + other, other}} {
		got, err := s.Pull(context.Background(), ref, PullOptions{Platform: tc.platform})
		if err != nil {
			t.Fatal(err)
		}
		wantImage(t, got, imgs[tc.arch], ref)
		if got.Platform != "linux/"+tc.arch || got.IndexDigest != idxDigest.String() {
			t.Errorf("platform %q index %s, want linux/%s %s", got.Platform, got.IndexDigest, tc.arch, idxDigest)
		}
		snaps, err := s.Snapshots(context.Background(), got)
		if err != nil {
			t.Fatal(err)
		}
		assertFile(t, filepath.Join(snaps[1], "arch"), tc.arch)
	}
	// By index digest, too.
	byIndex, err := s.Get(reg.host + "/test/multi@" + idxDigest.String())
	if err != nil || byIndex.Platform != "linux/"+other {
		t.Errorf("Get by index digest: %+v, %v", byIndex, err)
	}
}

func TestPullAgainFetchesNoLayer(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	img := busyboxImage(t)
	ref := reg.push(t, "test/again:1", img)
	root := t.TempDir()
	if _, err := mustOpen(t, root).Pull(context.Background(), ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	reg.resetCounts()
	var exists int
	got, err := mustOpen(t, root).Pull(context.Background(), ref, PullOptions{Progress: func(p Progress) {
		if p.State == "exists" {
			exists++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	wantImage(t, got, img, ref)
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		if n := reg.gets(d); n != 0 {
			t.Errorf("layer %s fetched %d times on the second pull", d, n)
		}
	}
	cfg, _ := img.ConfigName()
	if n := reg.gets(cfg); n != 0 {
		t.Errorf("config fetched %d times on the second pull", n)
	}
	if exists != len(layers) {
		t.Errorf("%d layers reported as existing, want %d", exists, len(layers))
	}
}

func TestConcurrentPullsFetchEachLayerOnce(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	img := busyboxImage(t)
	ref := reg.push(t, "test/concurrent:1", img)
	reg.resetCounts()
	root := t.TempDir()
	var wg sync.WaitGroup
	results := make([]*Image, 4)
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = mustOpen(t, root).Pull(context.Background(), ref, PullOptions{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pull %d: %v", i, err)
		}
		wantImage(t, results[i], img, ref)
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		if n := reg.gets(d); n != 1 {
			t.Errorf("layer %s fetched %d times by %d concurrent pulls, want 1", d, n, len(results))
		}
	}
	list, err := mustOpen(t, root).List()
	if err != nil || len(list) != 1 {
		t.Errorf("List after concurrent pulls of one ref: %d images, %v", len(list), err)
	}
}

func TestPullBadBlobLeavesNothing(t *testing.T) {
	testutil.RequiresRoot(t)
	for _, mode := range []string{"truncate", "corrupt"} {
		t.Run(mode, func(t *testing.T) {
			reg := newTestRegistry(t)
			img := busyboxImage(t)
			ref := reg.push(t, "test/bad:1", img)
			layers, _ := img.Layers()
			bad, _ := layers[0].Digest()
			reg.mu.Lock()
			if mode == "truncate" {
				reg.truncate = bad.String()
			} else {
				reg.corrupt = bad.String()
			}
			reg.mu.Unlock()

			s := mustOpen(t, t.TempDir(), WithConcurrency(1))
			if _, err := s.Pull(context.Background(), ref, PullOptions{}); err == nil {
				t.Fatal("pull of a bad blob succeeded")
			}
			if _, err := os.Stat(s.blobPath(bad)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a bad blob was committed: %v", err)
			}
			assertEmptyDir(t, s.path("tmp"))
			if _, err := s.Get(ref); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after a failed pull: %v, want ErrNotFound", err)
			}

			reg.mu.Lock()
			reg.truncate, reg.corrupt = "", ""
			reg.mu.Unlock()
			got, err := s.Pull(context.Background(), ref, PullOptions{})
			if err != nil {
				t.Fatalf("pull after the registry recovered: %v", err)
			}
			wantImage(t, got, img, ref)
		})
	}
}

// The store is an OCI layout that go-containerregistry can read back.
func TestStoreIsAnOCILayout(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	img := busyboxImage(t)
	ref := reg.push(t, "test/layout:1", img)
	s := mustOpen(t, t.TempDir())
	got, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(s.path())
	if err != nil {
		t.Fatal(err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.IndexManifest()
	if err != nil || len(im.Manifests) != 1 || im.Manifests[0].Annotations[annotationRefName] != ref {
		t.Fatalf("index.json: %+v, %v", im, err)
	}
	h, _ := v1.NewHash(got.Digest)
	limg, err := p.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := limg.ConfigName(); err != nil || id.String() != got.ID {
		t.Errorf("layout image config %s (%v), want %s", id, err, got.ID)
	}
	ls, err := limg.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		if d, err := l.DiffID(); err != nil || d.String() != got.DiffIDs[i] {
			t.Errorf("layout layer %d diff ID %s (%v), want %s", i, d, err, got.DiffIDs[i])
		}
	}
}

// A layer whose unpack fails early (a hostile entry first, then more data
// than the pipe to the unpack holds) stops its download: the pull fails
// with ErrUnsafeLayer instead of hanging, and leaves neither the snapshot
// nor the blob nor temporaries.
func TestPullHostileLayerStopsDownload(t *testing.T) {
	testutil.RequiresRoot(t)
	rng := rand.New(rand.NewPCG(5, 6))
	big := make([]byte, 8<<20) // incompressible: 8 MiB on the wire too
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	hostile := mkTar(t, file("../escape", "x"), file("big", string(big)))
	reg := newTestRegistry(t)
	img := mkImage(t, runtime.GOARCH, v1.Config{Cmd: []string{"/bin/sh"}}, layerOf(t, hostile))
	ref := reg.push(t, "test/hostile:1", img)
	layers, _ := img.Layers()
	dg, _ := layers[0].Digest()
	diffID, _ := layers[0].DiffID()

	s := mustOpen(t, t.TempDir())
	_, err := s.Pull(context.Background(), ref, PullOptions{})
	if !errors.Is(err, ErrUnsafeLayer) {
		t.Fatalf("pull of a hostile layer: %v, want ErrUnsafeLayer", err)
	}
	if s.hasBlob(dg) {
		t.Error("the blob of a layer whose download was stopped was committed")
	}
	if snap, _ := s.snapshotDir(diffID.String()); isDir(snap) {
		t.Error("a hostile layer's snapshot was committed")
	}
	assertEmptyDir(t, s.path("tmp"))
	if _, err := s.Get(ref); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after a failed pull: %v, want ErrNotFound", err)
	}
}

// Layer blobs larger than the download's chunks, of sizes that are no
// multiple of the disk's block (written straight to the disk, then the
// tail through the page cache), are stored byte for byte: each blob file
// hashes to its digest and has its size, and its snapshot holds the files.
func TestPullStoresLargeBlobsWhole(t *testing.T) {
	testutil.RequiresRoot(t)
	rng := rand.New(rand.NewPCG(21, 22))
	random := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return string(b)
	}
	bodies := []string{random(pipeChunkSize*3 + 1234), random(pipeChunkSize + 4096), random(777)}
	var layers []v1.Layer
	for i, body := range bodies {
		layers = append(layers, layerOf(t, mkTar(t, file(fmt.Sprintf("l%d", i), body))))
	}
	reg := newTestRegistry(t)
	ref := reg.push(t, "test/large:1", mkImage(t, runtime.GOARCH, v1.Config{}, layers...))
	s := mustOpen(t, t.TempDir())
	img, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := s.Snapshots(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		d, _ := l.Digest()
		size, _ := l.Size()
		b, err := os.ReadFile(s.blobPath(d))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256Of(b); got != d || int64(len(b)) != size {
			t.Errorf("layer %d: blob of %d bytes hashes to %s, want %d bytes, %s", i, len(b), got, size, d)
		}
		if got, err := os.ReadFile(filepath.Join(dirs[i], fmt.Sprintf("l%d", i))); err != nil || string(got) != bodies[i] {
			t.Errorf("layer %d: snapshot file of %d bytes (%v), want %d", i, len(got), err, len(bodies[i]))
		}
	}
}
