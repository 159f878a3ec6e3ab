package image

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var errCrash = errors.New("simulated crash")

// A crash after a pull's blobs and snapshots got their final names but
// before the image was recorded: no record, only complete content under
// final names, and a re-pull records the image without fetching a layer
// again.
func TestPullCrashBeforeRecordRepairs(t *testing.T) {
	img := smallImage(t, "crash")
	host := serve(t, quietRegistry())
	ref := host + "/test/crash:1"
	writeImage(t, ref, img)

	s := mustOpen(t, t.TempDir())
	s.afterRename = func() error { return errCrash }
	if _, err := s.Pull(context.Background(), ref, PullOptions{}); !errors.Is(err, errCrash) {
		t.Fatalf("pull with a crash before the record: %v, want the crash", err)
	}
	if _, err := s.Get(ref); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after the crash: %v, want ErrNotFound", err)
	}
	verifyStore(t, s)
	assertEmptyDir(t, s.path("tmp"))

	s.afterRename = nil
	var fetched int
	got, err := s.Pull(context.Background(), ref, PullOptions{Progress: func(p Progress) {
		if p.State == StateDownloading {
			fetched++
		}
	}})
	if err != nil {
		t.Fatalf("re-pull after the crash: %v", err)
	}
	wantImage(t, got, img, ref)
	if fetched != 0 {
		t.Errorf("re-pull fetched %d layer progress updates, want none: the layers were durable", fetched)
	}
	verifyStore(t, s)
}

// Leftovers of a pull that crashed before its sync (temporary blobs and
// snapshots, torn) are never taken for content: the re-pull removes them
// and stores the image.
func TestPullRepairsTornTemporaries(t *testing.T) {
	img := smallImage(t, "torn")
	host := serve(t, quietRegistry())
	ref := host + "/test/torn:1"
	writeImage(t, ref, img)

	s := mustOpen(t, t.TempDir())
	layers, _ := img.Layers()
	cf, _ := img.ConfigFile()
	for i, l := range layers {
		d, _ := l.Digest()
		if err := os.WriteFile(filepath.Join(s.path("tmp"), "blob-"+d.Hex+"-123"), []byte("torn"), 0o600); err != nil {
			t.Fatal(err)
		}
		snap := filepath.Join(s.path("tmp"), "snapshot-"+cf.RootFS.DiffIDs[i].Hex+"-456")
		if err := os.MkdirAll(filepath.Join(snap, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(snap, "etc", "os-release"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantImage(t, got, img, ref)
	assertEmptyDir(t, s.path("tmp"))
	verifyStore(t, s)
	snap, _ := s.snapshotDir(cf.RootFS.DiffIDs[0].String())
	assertFile(t, filepath.Join(snap, "etc", "os-release"), "ID=berth-test")
}

// A pull cancelled while a layer is half downloaded records nothing and
// leaves no temporary; the next pull completes.
func TestPullInterruptedRecordsNothing(t *testing.T) {
	big := layerOf(t, mkTar(t, file("big", strings.Repeat("0123456789abcdef", 256<<10))))
	small := layerOf(t, mkTar(t, file("small", "x")))
	img := mkImage(t, "amd64", v1.Config{}, small, big)
	bigDigest, _ := big.Digest()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stall atomic.Bool
	stall.Store(true)
	inner := quietRegistry()
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !stall.Load() || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+bigDigest.String()) {
			inner.ServeHTTP(w, r)
			return
		}
		// Half the blob, then the pull is interrupted while waiting for
		// the rest.
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		time.Sleep(50 * time.Millisecond)
		cancel()
		<-r.Context().Done()
	}))
	ref := host + "/test/interrupted:1"
	writeImage(t, ref, img)

	s := mustOpen(t, t.TempDir())
	if _, err := s.Pull(ctx, ref, PullOptions{}); err == nil {
		t.Fatal("an interrupted pull succeeded")
	}
	if _, err := s.Get(ref); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after the interrupted pull: %v, want ErrNotFound", err)
	}
	if s.hasBlob(bigDigest) {
		t.Error("the half-downloaded blob was committed")
	}
	assertEmptyDir(t, s.path("tmp"))
	verifyStore(t, s)

	stall.Store(false)
	got, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatalf("re-pull: %v", err)
	}
	wantImage(t, got, img, ref)
	verifyStore(t, s)
}

// Two pulls that need the same layers in opposite orders, at once, hold
// their layer locks until their commits: the locks are taken in one
// global order, so neither waits for the other in a cycle.
func TestConcurrentPullsOfSharedLayersInOppositeOrder(t *testing.T) {
	x := layerOf(t, mkTar(t, file("x", strings.Repeat("x", 1<<20))))
	y := layerOf(t, mkTar(t, file("y", strings.Repeat("y", 1<<20))))
	imgs := []v1.Image{mkImage(t, "amd64", v1.Config{}, x, y), mkImage(t, "amd64", v1.Config{}, y, x)}
	host := serve(t, quietRegistry())
	refs := []string{host + "/test/xy:1", host + "/test/yx:1"}
	for i, img := range imgs {
		writeImage(t, refs[i], img)
	}
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 5 {
		errs := make(chan error, len(refs))
		for _, ref := range refs {
			go func() {
				_, err := mustOpen(t, root, WithConcurrency(1)).Pull(ctx, ref, PullOptions{})
				errs <- err
			}()
		}
		for range refs {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		s := mustOpen(t, root)
		for i, ref := range refs {
			got, err := s.Get(ref)
			if err != nil {
				t.Fatal(err)
			}
			wantImage(t, got, imgs[i], ref)
		}
		if err := os.RemoveAll(s.path()); err != nil {
			t.Fatal(err)
		}
	}
}

// A batch takes its locks in sorted order whatever order it is given
// them: holding "b", a batch asked for [b, a] has taken "a" already.
func TestBatchLocksInSortedOrder(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.lock"), filepath.Join(dir, "b.lock")
	unlockB, err := lockFile(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, t.TempDir())
	batch := s.newBatch()
	locked := make(chan error, 1)
	go func() { locked <- batch.lock(context.Background(), []string{b, a}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		unlockA, err := lockFile(ctx, a)
		cancel()
		if err != nil {
			break // the batch holds "a" while it waits for "b"
		}
		unlockA()
		if time.Now().After(deadline) {
			t.Fatal("the batch never took the first lock in sorted order")
		}
		time.Sleep(5 * time.Millisecond)
	}
	unlockB()
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	batch.release()
	unlockA, err := lockFile(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	unlockA()
}

// An entry's sync starts when it is added, before the commit, and the
// commit gives it its final name only once that sync is done: while the
// sync of one entry is held, nothing is renamed.
func TestBatchSyncsEachEntryAsAddedAndRenamesAfter(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	b := s.newBatch()
	started := make(chan string, 2)
	hold := make(chan struct{})
	b.syncEntry = func(path string, slots chan struct{}) error {
		started <- filepath.Base(path)
		if strings.HasPrefix(filepath.Base(path), "held") {
			<-hold
		}
		return syncEntries(path, slots)
	}
	finals := addTemps(t, s, b, "quick", "held")
	for range 2 {
		select {
		case <-started: // before any commit
		case <-time.After(10 * time.Second):
			t.Fatal("adding an entry did not start its sync")
		}
	}
	committed := make(chan error, 1)
	go func() { committed <- b.commit() }()
	time.Sleep(50 * time.Millisecond)
	for _, f := range finals {
		if _, err := os.Lstat(f); err == nil {
			t.Fatalf("%s renamed while the sync of an entry was still running", f)
		}
	}
	close(hold)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	b.release()
	for _, f := range finals {
		if _, err := os.Lstat(f); err != nil {
			t.Errorf("after the commit: %v", err)
		}
	}
	assertEmptyDir(t, s.path("tmp"))
}

// A failed sync of one entry fails the commit: no entry gets its final
// name and the temporaries are removed.
func TestBatchFailedSyncCommitsNothing(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	b := s.newBatch()
	b.syncEntry = func(path string, slots chan struct{}) error {
		if filepath.Base(path) == "bad" {
			return errors.New("I/O error")
		}
		return syncEntries(path, slots)
	}
	finals := addTemps(t, s, b, "good", "bad")
	if err := b.commit(); err == nil || !strings.Contains(err.Error(), "I/O error") {
		t.Fatalf("commit after a failed sync: %v, want the sync's error", err)
	}
	b.release()
	for _, f := range finals {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s got its final name although a sync failed", f)
		}
	}
	assertEmptyDir(t, s.path("tmp"))
}

// addTemps writes a temporary file for each name, adds it to b under
// its final name among the blobs, and returns those final names.
func addTemps(t *testing.T, s *Store, b *batch, names ...string) []string {
	t.Helper()
	var finals []string
	for _, name := range names {
		tmp := filepath.Join(s.path("tmp"), name)
		if err := os.WriteFile(tmp, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
		final := filepath.Join(s.path("blobs", "sha256"), name)
		finals = append(finals, final)
		b.add(tmp, final)
	}
	return finals
}
