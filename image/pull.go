package image

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// PullOptions are the inputs of Pull.
type PullOptions struct {
	Platform string         // "os/arch[/variant]"; "" means the host's
	Progress func(Progress) // called for each state change, never concurrently; may be nil
}

// Progress reports one layer's state during Pull.
type Progress struct {
	Ref   string
	Layer string // layer digest
	Total int64  // compressed size
	Done  int64  // bytes downloaded so far
	State string // "waiting", "downloading", "extracting", "exists", "done"
}

// Pull fetches ref from its registry (credentials from the store's
// keychain, plain HTTP for loopback registries), selects the platform from
// a multi-platform index, stores the manifest, config and the layers not
// present yet (several at once, each checked against its digest before it
// gets its final name), unpacks every layer into its snapshot and tags the
// image as the normalised ref.
func (s *Store) Pull(ctx context.Context, ref string, o PullOptions) (*Image, error) {
	norm, err := NormalizeRef(ref)
	if err != nil {
		return nil, err
	}
	img, err := s.pull(ctx, norm, o)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", norm, err)
	}
	return img, nil
}

func (s *Store) pull(ctx context.Context, norm string, o PullOptions) (*Image, error) {
	platform, err := pullPlatform(o.Platform)
	if err != nil {
		return nil, err
	}
	rref, err := remoteRef(norm)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(rref,
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(s.keychain),
		remote.WithTransport(s.rt),
		remote.WithPlatform(*platform))
	if err != nil {
		return nil, err
	}
	indexDigest := ""
	if desc.MediaType.IsIndex() {
		indexDigest = desc.Digest.String()
	}
	rimg, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("selecting platform %s: %w", platform, err)
	}
	m, err := rimg.Manifest()
	if err != nil {
		return nil, err
	}
	rawManifest, err := rimg.RawManifest()
	if err != nil {
		return nil, err
	}
	if _, err := parseHash(m.Config.Digest.String()); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := s.fetchConfig(rimg, m.Config)
	if err != nil {
		return nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest has %d layers but config %d diff IDs", len(m.Layers), len(cfg.RootFS.DiffIDs))
	}

	report := progressReporter(norm, o.Progress)
	for _, l := range m.Layers {
		report(Progress{Layer: l.Digest.String(), Total: l.Size, State: "waiting"})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.jobs)
	for i, l := range m.Layers {
		diffID := cfg.RootFS.DiffIDs[i]
		g.Go(func() error { return s.pullLayer(gctx, rimg, l, diffID, report) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	digest, err := s.putBlob(rawManifest)
	if err != nil {
		return nil, fmt.Errorf("storing manifest: %w", err)
	}
	entry := v1.Descriptor{
		MediaType: m.MediaType,
		Size:      int64(len(rawManifest)),
		Digest:    digest,
		Platform:  cfg.Platform(),
		Annotations: map[string]string{
			annotationRefName: norm,
			annotationID:      m.Config.Digest.String(),
		},
	}
	if entry.MediaType == "" {
		entry.MediaType = desc.MediaType
	}
	if indexDigest != "" {
		entry.Annotations[annotationIndexDigest] = indexDigest
	}
	if err := s.tag(ctx, norm, entry); err != nil {
		return nil, err
	}
	return s.load(entry)
}

// fetchConfig returns the image config, from the local blob when present,
// storing it otherwise.
func (s *Store) fetchConfig(rimg v1.Image, d v1.Descriptor) (*v1.ConfigFile, error) {
	raw, err := s.readBlob(d.Digest)
	if err != nil {
		if raw, err = rimg.RawConfigFile(); err != nil {
			return nil, fmt.Errorf("fetching config: %w", err)
		}
		got, err := s.putBlob(raw)
		if err != nil {
			return nil, fmt.Errorf("storing config: %w", err)
		}
		if got != d.Digest {
			return nil, fmt.Errorf("config digest mismatch: want %s, got %s", d.Digest, got)
		}
	}
	cfg, err := v1.ParseConfigFile(bytesReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing config %s: %w", d.Digest, err)
	}
	return cfg, nil
}

// pullLayer downloads one layer blob unless present, under a per-blob lock
// so that concurrent pulls download it once, then unpacks its snapshot.
func (s *Store) pullLayer(ctx context.Context, rimg v1.Image, d v1.Descriptor, diffID v1.Hash, report func(Progress)) error {
	p := Progress{Layer: d.Digest.String(), Total: d.Size}
	if _, err := parseHash(d.Digest.String()); err != nil {
		return err
	}
	fetched, err := s.fetchBlob(ctx, rimg, d, func(done int64) {
		p.Done, p.State = done, "downloading"
		report(p)
	})
	if err != nil {
		return err
	}
	if !fetched {
		p.Done, p.State = d.Size, "exists"
		report(p)
	}
	p.State = "extracting"
	report(p)
	if _, _, err := s.ensureSnapshot(ctx, diffID, func() (io.ReadCloser, error) { return s.openBlob(d.Digest) }); err != nil {
		return err
	}
	p.State = "done"
	report(p)
	return nil
}

// fetchBlob downloads a layer blob unless present; fetched tells whether it
// did.
func (s *Store) fetchBlob(ctx context.Context, rimg v1.Image, d v1.Descriptor, progress func(int64)) (fetched bool, err error) {
	if s.hasBlob(d.Digest) {
		return false, nil
	}
	unlock, err := lockFile(ctx, s.path("locks", "blob-"+d.Digest.Hex+".lock"))
	if err != nil {
		return false, err
	}
	defer unlock()
	if s.hasBlob(d.Digest) {
		return false, nil
	}
	prefix := "blob-" + d.Digest.Hex + "-"
	removeStale(s.path("tmp"), prefix)
	l, err := rimg.LayerByDigest(d.Digest)
	if err != nil {
		return false, fmt.Errorf("layer %s: %w", d.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return false, fmt.Errorf("fetching layer %s: %w", d.Digest, err)
	}
	defer rc.Close()
	progress(0)
	cr := &countingReader{r: rc, step: max(d.Size/100, 256<<10), report: progress}
	if _, _, err := s.writeBlob(cr, prefix, d.Digest, d.Size); err != nil {
		return false, fmt.Errorf("fetching layer %s: %w", d.Digest, err)
	}
	progress(cr.n)
	return true, nil
}

// countingReader reports progress every step bytes.
type countingReader struct {
	r       io.Reader
	n, last int64
	step    int64
	report  func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n-c.last >= c.step {
		c.last = c.n
		c.report(c.n)
	}
	return n, err
}

// progressReporter serialises calls to fn and fills in the reference.
func progressReporter(ref string, fn func(Progress)) func(Progress) {
	if fn == nil {
		return func(Progress) {}
	}
	var mu sync.Mutex
	return func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		p.Ref = ref
		fn(p)
	}
}

// pullPlatform parses the requested platform, defaulting to the host's.
func pullPlatform(s string) (*v1.Platform, error) {
	if s == "" {
		return &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return nil, fmt.Errorf("parsing platform %q: %w", s, err)
	}
	return p, nil
}
