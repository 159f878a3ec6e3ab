package image

import (
	"archive/tar"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// smallFile is the size up to which an archive file is also kept in memory
// (manifests, configs, index.json).
const smallFile = 4 << 20

// Load reads a Docker (`docker save`) or OCI layout archive, plain or
// gzip/zstd-compressed, stores its images with the names the archive
// gives them (untagged when none), checks every blob against its digest
// and every layer against its diff ID while unpacking it, and returns the
// images loaded.
func (s *Store) Load(ctx context.Context, r io.Reader, progress func(Progress)) ([]Image, error) {
	unlock, err := s.use(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	imgs, err := s.load2(ctx, r, progress)
	if err != nil {
		return nil, fmt.Errorf("loading images: %w", err)
	}
	return imgs, nil
}

func (s *Store) load2(ctx context.Context, r io.Reader, progress func(Progress)) ([]Image, error) {
	dr, _, err := decompress(r)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	a, err := s.readArchive(ctx, dr)
	defer a.cleanup()
	if err != nil {
		return nil, err
	}
	var found []loadImage
	switch {
	case a.has("index.json"):
		found, err = a.ociImages()
	case a.has("manifest.json"):
		found, err = a.dockerImages()
	default:
		err = fmt.Errorf("no index.json or manifest.json: %w", ErrUnknownFormat)
	}
	if err != nil {
		return nil, err
	}
	var out []Image
	for _, li := range found {
		imgs, err := s.commitLoaded(ctx, a, li, progress)
		if err != nil {
			return nil, err
		}
		out = append(out, imgs...)
	}
	return out, nil
}

// archiveFile is one regular file of an archive, spooled to a temporary
// file with its digest computed.
type archiveFile struct {
	tmp    string
	digest v1.Hash
	size   int64
	data   []byte // the content when at most smallFile bytes
}

// archive is an archive read into the store's tmp directory; its names are
// only ever map keys, never paths on disk.
type archive struct {
	s     *Store
	files map[string]*archiveFile
	links map[string]string // link name -> target name
}

// readArchive spools every regular file of the tar.
func (s *Store) readArchive(ctx context.Context, r io.Reader) (*archive, error) {
	a := &archive{s: s, files: map[string]*archiveFile{}, links: map[string]string{}}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return a, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		if err != nil {
			return a, fmt.Errorf("reading archive: %w", err)
		}
		name := archiveName(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			f, err := s.spool(tr)
			if err != nil {
				return a, fmt.Errorf("reading %s from the archive: %w", hdr.Name, err)
			}
			if old := a.files[name]; old != nil {
				os.Remove(old.tmp)
			}
			a.files[name] = f
		case tar.TypeSymlink:
			a.links[name] = archiveName(path.Join(path.Dir(name), hdr.Linkname))
		case tar.TypeLink:
			a.links[name] = archiveName(hdr.Linkname)
		}
	}
}

// archiveName cleans a name inside an archive.
func archiveName(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

// spool copies r into a temporary file, hashing it.
func (s *Store) spool(r io.Reader) (*archiveFile, error) {
	f, err := os.CreateTemp(s.path("tmp"), "load-")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	var small bytes.Buffer
	n, err := io.Copy(io.MultiWriter(f, h, &limitWriter{w: &small, n: smallFile + 1}), r)
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	if err := f.Sync(); err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	af := &archiveFile{tmp: f.Name(), size: n, digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}}
	if n <= smallFile {
		af.data = small.Bytes()
	}
	return af, nil
}

// limitWriter keeps the first n bytes written and drops the rest.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(int64(len(p)), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func (a *archive) cleanup() {
	for _, f := range a.files {
		os.Remove(f.tmp)
	}
}

func (a *archive) has(name string) bool {
	_, err := a.file(name)
	return err == nil
}

// file looks a name up, following links.
func (a *archive) file(name string) (*archiveFile, error) {
	name = archiveName(name)
	for range 16 {
		if f := a.files[name]; f != nil {
			return f, nil
		}
		target, ok := a.links[name]
		if !ok {
			break
		}
		name = target
	}
	return nil, fmt.Errorf("archive has no file %q", name)
}

// small returns the content of a small file.
func (a *archive) small(name string) ([]byte, *archiveFile, error) {
	f, err := a.file(name)
	if err != nil {
		return nil, nil, err
	}
	if f.data == nil {
		return nil, nil, fmt.Errorf("%s: larger than %d bytes", name, smallFile)
	}
	return f.data, f, nil
}

// blob returns the file blobs/sha256/<hex> of an OCI layout, checked
// against its digest.
func (a *archive) blob(h v1.Hash) (*archiveFile, error) {
	if _, err := parseHash(h.String()); err != nil {
		return nil, err
	}
	f, err := a.file("blobs/" + h.Algorithm + "/" + h.Hex)
	if err != nil {
		return nil, err
	}
	if f.digest != h {
		return nil, fmt.Errorf("blob %s: digest mismatch, content is %s", h, f.digest)
	}
	return f, nil
}

// loadImage is an image found in an archive: its manifest (made up for a
// docker archive), the files holding config and layers, and its names.
type loadImage struct {
	manifest    *v1.Manifest
	rawManifest []byte // as in the archive; nil when made up
	mediaType   types.MediaType
	config      *archiveFile
	layers      []*archiveFile
	names       []string // normalised references
}

// ociImages reads the images of an OCI layout's index.json.
func (a *archive) ociImages() ([]loadImage, error) {
	data, _, err := a.small("index.json")
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing index.json: %w", err)
	}
	var out []loadImage
	byDigest := map[v1.Hash]int{}
	for _, d := range idx.Manifests {
		md, err := a.pickManifest(d)
		if err != nil {
			return nil, err
		}
		i, ok := byDigest[md.Digest]
		if !ok {
			li, err := a.ociImage(md)
			if err != nil {
				return nil, err
			}
			i = len(out)
			byDigest[md.Digest] = i
			out = append(out, li)
		}
		if n := ociName(d.Annotations); n != "" {
			out[i].names = appendUnique(out[i].names, n)
		}
	}
	return out, nil
}

// ociName is the reference an OCI index entry names: containerd's
// annotation, or ref.name when it is a full reference rather than a tag.
func ociName(ann map[string]string) string {
	for _, n := range []string{ann[annotationContainerdName], ann[annotationRefName]} {
		if n == "" || !strings.ContainsAny(n, "/:") {
			continue
		}
		if norm, err := tagTarget(n); err == nil {
			return norm
		}
	}
	return ""
}

// pickManifest follows an index descriptor to the host platform's image
// manifest.
func (a *archive) pickManifest(d v1.Descriptor) (v1.Descriptor, error) {
	for range 4 {
		if !d.MediaType.IsIndex() {
			return d, nil
		}
		f, err := a.blob(d.Digest)
		if err != nil {
			return d, err
		}
		if f.data == nil {
			return d, fmt.Errorf("index %s too large", d.Digest)
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(f.data))
		if err != nil {
			return d, fmt.Errorf("parsing index %s: %w", d.Digest, err)
		}
		host := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
		var next *v1.Descriptor
		for i, m := range idx.Manifests {
			if m.Platform == nil || m.Platform.Satisfies(host) {
				if _, err := a.blob(m.Digest); err == nil {
					next = &idx.Manifests[i]
					break
				}
			}
		}
		if next == nil {
			return d, fmt.Errorf("index %s has no %s image in the archive", d.Digest, host.String())
		}
		d = *next
	}
	return d, fmt.Errorf("indexes nested too deep")
}

// ociImage reads one image manifest of an OCI layout.
func (a *archive) ociImage(d v1.Descriptor) (loadImage, error) {
	f, err := a.blob(d.Digest)
	if err != nil {
		return loadImage{}, err
	}
	if f.data == nil {
		return loadImage{}, fmt.Errorf("manifest %s too large", d.Digest)
	}
	m, err := v1.ParseManifest(bytes.NewReader(f.data))
	if err != nil {
		return loadImage{}, fmt.Errorf("parsing manifest %s: %w", d.Digest, err)
	}
	li := loadImage{manifest: m, rawManifest: f.data, mediaType: cmp.Or(d.MediaType, m.MediaType, types.OCIManifestSchema1)}
	if li.config, err = a.blob(m.Config.Digest); err != nil {
		return loadImage{}, err
	}
	for _, l := range m.Layers {
		lf, err := a.blob(l.Digest)
		if err != nil {
			return loadImage{}, err
		}
		li.layers = append(li.layers, lf)
	}
	return li, nil
}

// dockerImages reads the images of a docker archive's manifest.json and
// makes an OCI manifest for each, keeping the layers as they are in the
// archive (uncompressed for `docker save`).
func (a *archive) dockerImages() ([]loadImage, error) {
	data, _, err := a.small("manifest.json")
	if err != nil {
		return nil, err
	}
	var entries []dockerManifestEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("parsing manifest.json: %w", err)
	}
	var out []loadImage
	for _, e := range entries {
		cfgData, cf, err := a.small(e.Config)
		if err != nil {
			return nil, err
		}
		if want, ok := digestInName(e.Config); ok && want != cf.digest.Hex {
			return nil, fmt.Errorf("config %s: digest mismatch, content is %s", e.Config, cf.digest)
		}
		m := &v1.Manifest{
			SchemaVersion: 2,
			MediaType:     types.OCIManifestSchema1,
			Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: cf.size, Digest: cf.digest},
		}
		li := loadImage{manifest: m, mediaType: types.OCIManifestSchema1, config: cf}
		for _, ln := range e.Layers {
			lf, err := a.file(ln)
			if err != nil {
				return nil, err
			}
			comp, err := fileCompression(lf.tmp)
			if err != nil {
				return nil, err
			}
			m.Layers = append(m.Layers, v1.Descriptor{MediaType: comp.mediaType(), Size: lf.size, Digest: lf.digest})
			li.layers = append(li.layers, lf)
		}
		if _, err := v1.ParseConfigFile(bytes.NewReader(cfgData)); err != nil {
			return nil, fmt.Errorf("parsing config %s: %w", e.Config, err)
		}
		for _, t := range e.RepoTags {
			norm, err := tagTarget(t)
			if err != nil {
				return nil, err
			}
			li.names = appendUnique(li.names, norm)
		}
		out = append(out, li)
	}
	return out, nil
}

// digestInName returns the hex digest a docker archive name carries
// ("<hex>.json", "blobs/sha256/<hex>").
func digestInName(name string) (string, bool) {
	base := strings.TrimSuffix(path.Base(name), ".json")
	_, err := parseHash("sha256:" + base)
	return base, err == nil
}

// fileCompression tells how a spooled file is compressed.
func fileCompression(p string) (compression, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	_, c, err := decompress(f)
	return c, err
}

// commitLoaded moves one image's blobs into the store, unpacks its layers
// (checking their diff IDs) and tags it.
func (s *Store) commitLoaded(ctx context.Context, a *archive, li loadImage, progress func(Progress)) ([]Image, error) {
	if err := s.commitFile(li.config); err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(li.config.data))
	if err != nil {
		return nil, fmt.Errorf("parsing config %s: %w", li.config.digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(li.layers) {
		return nil, fmt.Errorf("image %s: %d layers but %d diff IDs", li.config.digest, len(li.layers), len(cfg.RootFS.DiffIDs))
	}
	ref := ""
	if len(li.names) > 0 {
		ref = li.names[0]
	}
	report := progressReporter(ref, "", progress)
	for i, lf := range li.layers {
		p := Progress{Layer: lf.digest.String(), Total: lf.size, Done: lf.size, State: StateExtracting}
		if err := s.commitFile(lf); err != nil {
			return nil, err
		}
		_, existed, err := s.ensureSnapshot(ctx, cfg.RootFS.DiffIDs[i], func() (io.ReadCloser, error) { return s.openBlob(lf.digest) })
		if existed {
			p.State = StateExists
		}
		report(p)
		if err != nil {
			return nil, err
		}
		p.State = StateDone
		report(p)
	}
	raw := li.rawManifest
	if raw == nil {
		if raw, err = json.Marshal(li.manifest); err != nil {
			return nil, err
		}
	}
	digest, err := s.putBlob(nil, raw)
	if err != nil {
		return nil, fmt.Errorf("storing manifest: %w", err)
	}
	entry := v1.Descriptor{
		MediaType:   li.mediaType,
		Size:        int64(len(raw)),
		Digest:      digest,
		Platform:    cfg.Platform(),
		Annotations: map[string]string{annotationID: li.config.digest.String()},
	}
	names := li.names
	if len(names) == 0 {
		names = []string{""}
	}
	var out []Image
	for _, n := range names {
		e := entry
		e.Annotations = map[string]string{annotationID: li.config.digest.String()}
		if n != "" {
			e.Annotations[annotationRefName] = n
		}
		if err := s.tag(ctx, n, e); err != nil {
			return nil, err
		}
		img, err := s.load(e)
		if err != nil {
			return nil, err
		}
		out = append(out, *img)
	}
	return out, nil
}

// commitFile moves a spooled file into the blob store under its digest.
func (s *Store) commitFile(f *archiveFile) error {
	if s.hasBlob(f.digest) {
		return nil
	}
	if err := os.Rename(f.tmp, s.blobPath(f.digest)); err != nil {
		return fmt.Errorf("committing blob %s: %w", f.digest, err)
	}
	return nil
}
