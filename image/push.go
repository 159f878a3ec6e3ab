package image

import (
	"context"
	"fmt"
	"io"
	"maps"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// PushOptions are the inputs of Push.
type PushOptions struct {
	Progress func(Progress) // called for each state change, never concurrently; may be nil
}

// Push uploads the local image ref to the registry ref names (credentials
// from the keychain, plain HTTP for loopback and insecure registries),
// layers in parallel, skipping blobs the registry has, then the manifest
// under ref's tag. The pushed digest becomes one of the image's
// RepoDigests.
func (s *Store) Push(ctx context.Context, ref string, o PushOptions) error {
	norm, err := NormalizeRef(ref)
	if err != nil {
		return err
	}
	if err := s.push(ctx, norm, o); err != nil {
		return fmt.Errorf("pushing %s: %w", norm, err)
	}
	return nil
}

func (s *Store) push(ctx context.Context, norm string, o PushOptions) error {
	unlock, err := s.use(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	im, err := s.readIndex()
	if err != nil {
		return err
	}
	d, _, err := find(im.Manifests, norm)
	if err != nil {
		return err
	}
	img, err := layout.Path(s.dir).Image(d.Digest)
	if err != nil {
		return fmt.Errorf("opening image %s: %w", d.Digest, err)
	}
	rref, err := s.remoteRef(norm)
	if err != nil {
		return err
	}
	report := progressReporter(norm, rref.Context().RegistryStr(), o.Progress)
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	sizes := make([]int64, len(layers))
	for i, l := range layers {
		if sizes[i], err = l.Size(); err != nil {
			return err
		}
		dg, _ := l.Digest()
		report(Progress{Layer: dg.String(), Total: sizes[i], State: StateWaiting})
	}
	opts := s.remoteOptions(ctx)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.jobs)
	for i, l := range layers {
		g.Go(func() error {
			dg, err := l.Digest()
			if err != nil {
				return err
			}
			p := Progress{Layer: dg.String(), Total: sizes[i]}
			pl := &progressLayer{Layer: l, report: func(n int64) {
				p.State, p.Done = StatePushing, n
				report(p)
			}}
			if err := remote.WriteLayer(rref.Context(), pl, s.remoteOptions(gctx)...); err != nil {
				return fmt.Errorf("layer %s: %w", dg, err)
			}
			p.State, p.Done = StateDone, sizes[i]
			report(p)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := remote.Write(rref, img, opts...); err != nil {
		return err
	}
	// Record the registry's digest, as Docker does after a push.
	return s.updateIndex(ctx, func(im *v1.IndexManifest) error {
		for i, e := range im.Manifests {
			if e.Annotations[annotationRefName] == norm && e.Digest == d.Digest {
				im.Manifests[i].Annotations = maps.Clone(e.Annotations)
				im.Manifests[i].Annotations[annotationRepoDigest] = repoOf(norm) + "@" + d.Digest.String()
			}
		}
		return nil
	})
}

// progressLayer reports the bytes read from its compressed stream.
type progressLayer struct {
	v1.Layer
	report func(int64)
}

func (l *progressLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{newCountingReader(rc, l.report), rc}, nil
}
