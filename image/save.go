package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Archive formats of Save.
const (
	FormatDocker = "docker" // `docker save`: manifest.json, repositories, <config>.json, <diffid>/layer.tar
	FormatOCI    = "oci"    // an OCI image layout (plus a manifest.json, as Docker 25+ writes)
)

// ErrUnknownFormat is returned for an archive format Save or Load does not
// know.
var ErrUnknownFormat = errors.New("unknown image archive format")

// Annotations of an OCI layout index naming an image, as Docker and
// containerd write them.
const (
	annotationContainerdName = "io.containerd.image.name"
)

// dockerManifestEntry is one element of a docker archive's manifest.json.
type dockerManifestEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// savedImage is one image going into an archive with the references it is
// saved under.
type savedImage struct {
	desc  v1.Descriptor
	m     *v1.Manifest
	cfg   *v1.ConfigFile
	names []string // normalised references
}

// Save writes the images refs name (references or IDs; an ID saves the
// image without a name) into one tar archive in format FormatDocker
// (the default when "") or FormatOCI.
func (s *Store) Save(ctx context.Context, w io.Writer, refs []string, format string) error {
	if format == "" {
		format = FormatDocker
	}
	if format != FormatDocker && format != FormatOCI {
		return fmt.Errorf("saving images: %q: %w", format, ErrUnknownFormat)
	}
	unlock, err := s.use(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	imgs, err := s.resolveSave(refs)
	if err != nil {
		return fmt.Errorf("saving images: %w", err)
	}
	tw := tar.NewWriter(w)
	if format == FormatDocker {
		err = s.saveDocker(ctx, tw, imgs)
	} else {
		err = s.saveOCI(tw, imgs)
	}
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		return fmt.Errorf("saving images as %s archive: %w", format, err)
	}
	return nil
}

// resolveSave finds the images refs name, one savedImage per manifest.
func (s *Store) resolveSave(refs []string) ([]*savedImage, error) {
	im, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var out []*savedImage
	byDigest := map[v1.Hash]*savedImage{}
	for _, ref := range refs {
		d, byID, err := find(im.Manifests, ref)
		if err != nil {
			return nil, err
		}
		si := byDigest[d.Digest]
		if si == nil {
			m, cfg, err := s.manifestAndConfig(d.Digest)
			if err != nil {
				return nil, err
			}
			si = &savedImage{desc: d, m: m, cfg: cfg}
			byDigest[d.Digest] = si
			out = append(out, si)
		}
		if name := d.Annotations[annotationRefName]; !byID && name != "" && !strings.Contains(name, "@") {
			si.names = appendUnique(si.names, name)
		}
	}
	return out, nil
}

// saveDocker writes the classic `docker save` layout with uncompressed
// layers.
func (s *Store) saveDocker(ctx context.Context, tw *tar.Writer, imgs []*savedImage) error {
	written := map[string]bool{}
	manifest := []dockerManifestEntry{}
	repos := map[string]map[string]string{}
	for _, si := range imgs {
		cfgName := si.m.Config.Digest.Hex + ".json"
		if !written[cfgName] {
			if err := s.tarBlob(tw, cfgName, si.m.Config.Digest); err != nil {
				return err
			}
			written[cfgName] = true
		}
		e := dockerManifestEntry{Config: cfgName, RepoTags: []string{}}
		for i, l := range si.m.Layers {
			dir := si.cfg.RootFS.DiffIDs[i].Hex
			name := dir + "/layer.tar"
			if !written[name] {
				if err := tarDir(tw, dir+"/"); err != nil {
					return err
				}
				if err := s.tarUncompressed(ctx, tw, name, l.Digest); err != nil {
					return err
				}
				written[name] = true
			}
			e.Layers = append(e.Layers, name)
		}
		for _, n := range si.names {
			named := mustNamed(n)
			tagged, ok := named.(reference.Tagged)
			if !ok {
				continue
			}
			e.RepoTags = append(e.RepoTags, familiar(n))
			repo := reference.FamiliarName(named)
			if repos[repo] == nil {
				repos[repo] = map[string]string{}
			}
			if len(si.cfg.RootFS.DiffIDs) > 0 {
				repos[repo][tagged.Tag()] = si.cfg.RootFS.DiffIDs[len(si.cfg.RootFS.DiffIDs)-1].Hex
			}
		}
		manifest = append(manifest, e)
	}
	if err := tarJSON(tw, "manifest.json", manifest); err != nil {
		return err
	}
	return tarJSON(tw, "repositories", repos)
}

// saveOCI writes an OCI image layout, blobs as stored, plus a
// manifest.json so that older Docker versions load it too.
func (s *Store) saveOCI(tw *tar.Writer, imgs []*savedImage) error {
	if err := tarBytes(tw, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tarDir(tw, d); err != nil {
			return err
		}
	}
	written := map[v1.Hash]bool{}
	blob := func(h v1.Hash) (string, error) {
		name := "blobs/sha256/" + h.Hex
		if written[h] {
			return name, nil
		}
		written[h] = true
		return name, s.tarBlob(tw, name, h)
	}
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}
	manifest := []dockerManifestEntry{}
	for _, si := range imgs {
		if _, err := blob(si.desc.Digest); err != nil {
			return err
		}
		cfgName, err := blob(si.m.Config.Digest)
		if err != nil {
			return err
		}
		e := dockerManifestEntry{Config: cfgName, RepoTags: []string{}}
		for _, l := range si.m.Layers {
			name, err := blob(l.Digest)
			if err != nil {
				return err
			}
			e.Layers = append(e.Layers, name)
		}
		desc := v1.Descriptor{MediaType: si.desc.MediaType, Size: si.desc.Size, Digest: si.desc.Digest, Platform: si.desc.Platform}
		if len(si.names) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, n := range si.names {
			d := desc
			d.Annotations = map[string]string{annotationContainerdName: n}
			if tagged, ok := mustNamed(n).(reference.Tagged); ok {
				d.Annotations[annotationRefName] = tagged.Tag()
			}
			index.Manifests = append(index.Manifests, d)
			e.RepoTags = append(e.RepoTags, familiar(n))
		}
		manifest = append(manifest, e)
	}
	if err := tarJSON(tw, "index.json", index); err != nil {
		return err
	}
	return tarJSON(tw, "manifest.json", manifest)
}

// archiveTime is the modification time of every archive entry, so that
// saving one image twice gives the same bytes.
var archiveTime = time.Unix(0, 0)

func tarDir(tw *tar.Writer, name string) error {
	return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: archiveTime, Format: tar.FormatPAX})
}

func tarBytes(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: archiveTime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func tarJSON(tw *tar.Writer, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return tarBytes(tw, name, data)
}

// tarFile copies an open file into the archive as name.
func tarFile(tw *tar.Writer, name string, f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: fi.Size(), ModTime: archiveTime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	return nil
}

// tarBlob copies a blob into the archive as name.
func (s *Store) tarBlob(tw *tar.Writer, name string, h v1.Hash) error {
	f, err := os.Open(s.blobPath(h))
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	defer f.Close()
	return tarFile(tw, name, f)
}

// tarUncompressed writes a layer blob uncompressed into the archive; a
// compressed one is decompressed into a temporary file first, since a tar
// header needs the size.
func (s *Store) tarUncompressed(ctx context.Context, tw *tar.Writer, name string, h v1.Hash) error {
	f, err := os.Open(s.blobPath(h))
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	defer f.Close()
	dr, comp, err := decompress(f)
	if err != nil {
		return err
	}
	defer dr.Close()
	if comp == uncompressed {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		return tarFile(tw, name, f)
	}
	tmp, err := os.CreateTemp(s.path("tmp"), "save-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, ctxReader{ctx, dr}); err != nil {
		return fmt.Errorf("decompressing layer %s: %w", h, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return tarFile(tw, name, tmp)
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
