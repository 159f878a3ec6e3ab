package image

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/berth-dev/berth/internal/phase"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// PullOptions are the inputs of Pull.
type PullOptions struct {
	Platform string         // "os/arch[/variant]"; "" means the host's
	Progress func(Progress) // called for each state change, never concurrently; may be nil
}

// Pull fetches ref from its registry (for docker.io references from each
// configured mirror in turn, then Docker Hub; credentials from the store's
// keychain; plain HTTP for loopback and insecure registries), selects the
// platform from a multi-platform index, stores the manifest, config and the
// layers not present yet (several at once, each checked against its digest
// before it gets its final name, unpacked while it downloads), and tags the
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
	srcs, err := s.sources(norm)
	if err != nil {
		return nil, err
	}
	unlock, err := s.use(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var errs []error
	for _, src := range srcs {
		img, err := s.pullFrom(ctx, norm, src, *platform, progressReporter(norm, src.host, o.Progress))
		if err == nil {
			return img, nil
		}
		errs = append(errs, fmt.Errorf("from %s: %w", src.host, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// pullFrom pulls norm from one source.
func (s *Store) pullFrom(ctx context.Context, norm string, src source, platform v1.Platform, report func(Progress)) (*Image, error) {
	endResolve := phase.Start(norm, "pull.resolve")
	desc, err := remote.Get(src.ref, s.remoteOptions(ctx, remote.WithPlatform(platform))...)
	if err != nil {
		return nil, err
	}
	indexDigest := ""
	if desc.MediaType.IsIndex() {
		indexDigest = desc.Digest.String()
	}
	rimg, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("selecting platform %s: %w", platform.String(), err)
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
	b := s.newBatch()
	defer b.release()
	cfg, err := s.fetchConfig(b, rimg, m.Config)
	if err != nil {
		return nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest has %d layers but config %d diff IDs", len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	locks, err := s.layerLocks(m.Layers, cfg.RootFS.DiffIDs)
	if err != nil {
		return nil, err
	}

	endResolve()
	for _, l := range m.Layers {
		report(Progress{Layer: l.Digest.String(), Total: l.Size, State: StateWaiting})
	}
	if err := b.lock(ctx, locks); err != nil {
		return nil, err
	}
	endLayers := phase.Start(norm, "pull.layers")
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.jobs)
	for i, l := range m.Layers {
		diffID := cfg.RootFS.DiffIDs[i]
		g.Go(func() error { return s.pullLayer(gctx, b, rimg, l, diffID, report) })
	}
	lerr := g.Wait()
	endLayers()
	var digest v1.Hash
	if lerr == nil {
		if digest, lerr = s.putBlob(b, rawManifest); lerr != nil {
			lerr = fmt.Errorf("storing manifest: %w", lerr)
		}
	}
	// The layers that did arrive are kept even when another failed, so
	// that the next pull does not fetch them again; the image is recorded
	// (tag, below) only after everything it needs is durable.
	endCommit := phase.Start(norm, "pull.commit")
	if err := b.commit(); err != nil {
		return nil, errors.Join(lerr, err)
	}
	endCommit()
	b.release()
	if lerr != nil {
		return nil, lerr
	}

	repoDigest := indexDigest
	if repoDigest == "" {
		repoDigest = digest.String()
	}
	entry := v1.Descriptor{
		MediaType: m.MediaType,
		Size:      int64(len(rawManifest)),
		Digest:    digest,
		Platform:  cfg.Platform(),
		Annotations: map[string]string{
			annotationRefName:    norm,
			annotationID:         m.Config.Digest.String(),
			annotationRepoDigest: repoOf(norm) + "@" + repoDigest,
			annotationPulled:     time.Now().UTC().Format(time.RFC3339Nano),
		},
	}
	if entry.MediaType == "" {
		entry.MediaType = desc.MediaType
	}
	if indexDigest != "" {
		entry.Annotations[annotationIndexDigest] = indexDigest
	}
	defer phase.Start(norm, "pull.record")()
	if err := s.tag(ctx, norm, entry); err != nil {
		return nil, err
	}
	return s.load(entry)
}

// fetchConfig returns the image config, from the local blob when present,
// storing it through b otherwise.
func (s *Store) fetchConfig(b *batch, rimg v1.Image, d v1.Descriptor) (*v1.ConfigFile, error) {
	raw, err := s.readBlob(d.Digest)
	if err != nil {
		if raw, err = rimg.RawConfigFile(); err != nil {
			return nil, fmt.Errorf("fetching config: %w", err)
		}
		got, err := s.putBlob(b, raw)
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
