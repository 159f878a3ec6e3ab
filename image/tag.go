package image

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrInvalidReference is returned for a reference that cannot be used as
// asked, such as a digest reference as a tag target.
var ErrInvalidReference = errors.New("invalid image reference")

// Tag gives the image src (any reference or ID Get accepts) the
// reference dst, normalised like "docker tag" does; an image dst named
// before keeps its other references or becomes untagged.
func (s *Store) Tag(src, dst string) error {
	norm, err := tagTarget(dst)
	if err != nil {
		return err
	}
	err = s.updateIndex(context.Background(), func(im *v1.IndexManifest) error {
		d, _, err := find(im.Manifests, src)
		if err != nil {
			return err
		}
		d.Annotations = maps.Clone(d.Annotations)
		d.Annotations[annotationRefName] = norm
		if rd := d.Annotations[annotationRepoDigest]; rd != "" && !strings.HasPrefix(rd, repoOf(norm)+"@") {
			delete(d.Annotations, annotationRepoDigest) // another repository's digest
		}
		im.Manifests = retag(im.Manifests, norm, d)
		return nil
	})
	if err != nil {
		return fmt.Errorf("tagging %s as %s: %w", src, dst, err)
	}
	return nil
}

// tagTarget normalises a reference an image is to be stored under: a name
// with a tag, not a digest.
func tagTarget(ref string) (string, error) {
	norm, err := NormalizeRef(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidReference, err)
	}
	if strings.Contains(norm, "@") {
		return "", fmt.Errorf("%q: cannot tag with a digest: %w", ref, ErrInvalidReference)
	}
	return norm, nil
}
