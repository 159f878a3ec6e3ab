package image

import (
	"context"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// pullLayer makes sure one layer's blob and snapshot are in the store.
// Under the per-blob and per-snapshot locks (so that concurrent pulls, in
// this or other processes, fetch and unpack a layer once) it downloads the
// blob when missing, unpacking it on the way when its snapshot is missing
// too, or unpacks the blob already there.
func (s *Store) pullLayer(ctx context.Context, rimg v1.Image, d v1.Descriptor, diffID v1.Hash, report func(Progress)) error {
	p := Progress{Layer: d.Digest.String(), Total: d.Size}
	set := func(state string, done int64) {
		p.State, p.Done = state, done
		report(p)
	}
	if _, err := parseHash(d.Digest.String()); err != nil {
		return err
	}
	snap, err := s.snapshotDir(diffID.String())
	if err != nil {
		return err
	}
	if !s.hasBlob(d.Digest) || !isDir(snap) {
		unlockBlob, err := lockFile(ctx, s.blobLock(d.Digest))
		if err != nil {
			return err
		}
		defer unlockBlob()
		unlockSnap, err := lockFile(ctx, s.snapshotLock(diffID))
		if err != nil {
			return err
		}
		defer unlockSnap()
	}
	haveBlob, haveSnap := s.hasBlob(d.Digest), isDir(snap)
	switch {
	case haveBlob && haveSnap:
		set(StateExists, d.Size)
	case haveBlob:
		set(StateExists, d.Size)
		set(StateExtracting, d.Size)
		rc, err := s.openBlob(d.Digest)
		if err != nil {
			return err
		}
		defer rc.Close()
		tmp, err := s.extractTemp(ctx, diffID, rc)
		if err != nil {
			return err
		}
		if err := s.commitSnapshot(tmp, diffID); err != nil {
			return err
		}
	default:
		if err := s.download(ctx, rimg, d, diffID, !haveSnap, set); err != nil {
			return fmt.Errorf("layer %s: %w", d.Digest, err)
		}
	}
	set(StateDone, d.Size)
	return nil
}

// download fetches a layer blob into the store; with unpack it also
// streams the bytes into the snapshot's extraction as they arrive, and
// commits the snapshot only when both the blob digest and the diff ID
// checked out. The caller holds the blob and snapshot locks.
func (s *Store) download(ctx context.Context, rimg v1.Image, d v1.Descriptor, diffID v1.Hash, unpack bool, set func(string, int64)) error {
	l, err := rimg.LayerByDigest(d.Digest)
	if err != nil {
		return err
	}
	rc, err := l.Compressed() // verifies digest and size as it reaches its end
	if err != nil {
		return fmt.Errorf("fetching: %w", err)
	}
	defer rc.Close()
	cr := newCountingReader(rc, func(n int64) { set(StateDownloading, n) })
	cr.eof = func(n int64) { set(StateVerifying, n) }
	prefix := "blob-" + d.Digest.Hex + "-"
	removeStale(s.path("tmp"), prefix)
	if !unpack {
		_, _, err := s.writeVerifiedBlob(cr, prefix, d.Digest, d.Size)
		return err
	}

	removeStale(s.path("tmp"), "snapshot-"+diffID.Hex+"-")
	tmp, err := os.MkdirTemp(s.path("tmp"), "snapshot-"+diffID.Hex+"-")
	if err != nil {
		return fmt.Errorf("creating temporary snapshot: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after the commit
	pr, pw := io.Pipe()
	unpacked := make(chan error, 1)
	go func() {
		err := s.extractInto(ctx, diffID, pr, tmp)
		if err == nil {
			_, err = io.Copy(io.Discard, pr) // whatever follows the compressed stream
		}
		pr.CloseWithError(err) // stops the download when the unpack failed
		unpacked <- err
	}()
	_, _, werr := s.writeVerifiedBlob(io.TeeReader(cr, pw), prefix, d.Digest, d.Size)
	pw.CloseWithError(werr) // nil: the extraction sees the end of the stream
	if werr == nil {
		set(StateExtracting, d.Size)
	}
	uerr := <-unpacked
	if werr != nil {
		return werr // an unpack failure that stopped the download is wrapped in it
	}
	if uerr != nil {
		return uerr
	}
	return s.commitSnapshot(tmp, diffID)
}
