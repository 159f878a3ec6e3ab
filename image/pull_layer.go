package image

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/berth-dev/berth/internal/phase"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// layerLocks returns the lock files of the layers whose blob or snapshot
// is missing: a pull holds them (through its batch) from before it checks
// what to fetch until its commit, so that concurrent pulls, in this or
// other processes, fetch and unpack a layer once.
func (s *Store) layerLocks(layers []v1.Descriptor, diffIDs []v1.Hash) ([]string, error) {
	var locks []string
	for i, l := range layers {
		if _, err := parseHash(l.Digest.String()); err != nil {
			return nil, err
		}
		snap, err := s.snapshotDir(diffIDs[i].String())
		if err != nil {
			return nil, err
		}
		if !s.hasBlob(l.Digest) || !isDir(snap) {
			locks = append(locks, s.blobLock(l.Digest), s.snapshotLock(diffIDs[i]))
		}
	}
	return locks, nil
}

// pullLayer makes sure one layer's blob and snapshot are in the store, or
// in b on their way there: it downloads the blob when missing, unpacking
// it on the way when its snapshot is missing too, or unpacks the blob
// already there. The caller holds the layer's locks (layerLocks).
func (s *Store) pullLayer(ctx context.Context, b *batch, rimg v1.Image, d v1.Descriptor, diffID v1.Hash, report func(Progress)) error {
	defer phase.Start(d.Digest.Hex[:12], "pull.layer")()
	p := Progress{Layer: d.Digest.String(), Total: d.Size}
	set := func(state string, done int64) {
		p.State, p.Done = state, done
		report(p)
	}
	snap, err := s.snapshotDir(diffID.String())
	if err != nil {
		return err
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
		tmp, err := s.extractTemp(ctx, diffID, rc, true)
		if err != nil {
			return err
		}
		b.add(tmp, snap)
	default:
		if err := s.download(ctx, b, rimg, d, diffID, !haveSnap, set); err != nil {
			return fmt.Errorf("layer %s: %w", d.Digest, err)
		}
	}
	set(StateDone, d.Size)
	return nil
}

// The pipe between a layer's download and its unpack: chunks in flight
// and their size (memory per layer: their product, 2 MiB). Eight give
// each of the three stages (read and digest, blob write, unpack) slack to
// run ahead while another stalls; with four the pull measured ~30 ms
// slower (bench/compare.sh, pull row).
const (
	pipeChunks    = 8
	pipeChunkSize = 256 << 10
)

// download fetches a layer blob into b; with unpack it also streams the
// bytes into the snapshot's extraction as they arrive, and hands the
// snapshot to b only when both the blob digest and the diff ID checked
// out. The compressed bytes are hashed once (by the verifying reader of
// the registry client) and the uncompressed ones once (for the diff ID),
// each in the same pass that writes them. The caller holds the blob and
// snapshot locks.
func (s *Store) download(ctx context.Context, b *batch, rimg v1.Image, d v1.Descriptor, diffID v1.Hash, unpack bool, set func(string, int64)) error {
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
		_, _, err := s.writeVerifiedBlob(b, cr, prefix, d.Digest, d.Size)
		return err
	}

	removeStale(s.path("tmp"), "snapshot-"+diffID.Hex+"-")
	tmp, err := os.MkdirTemp(s.path("tmp"), "snapshot-"+diffID.Hex+"-")
	if err != nil {
		return fmt.Errorf("creating temporary snapshot: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmp)
		}
	}()
	// The download (with the blob digest) and the unpack (gunzip, diff ID,
	// files) run side by side, connected by a few large chunks.
	pipe := newChunkPipe(pipeChunks, pipeChunkSize)
	unpacked := make(chan error, 1)
	go func() {
		err := s.extractInto(ctx, diffID, pipe, tmp, true)
		if err == nil {
			_, err = io.Copy(io.Discard, pipe) // whatever follows the compressed stream
		}
		pipe.CloseRead(err) // stops the download when the unpack failed
		unpacked <- err
	}()
	// The blob reaches b only when its digest checked out; the unpack
	// must check out too before the snapshot does. A failed unpack after a
	// good download still leaves the good blob to b.
	_, _, werr := s.writeVerifiedBlob(b, &chunkTee{r: cr, p: pipe}, prefix, d.Digest, d.Size)
	pipe.CloseWrite(werr) // nil: the extraction sees the end of the stream
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
	snap, err := s.snapshotDir(diffID.String())
	if err != nil {
		return err
	}
	b.add(tmp, snap)
	committed = true
	return nil
}
