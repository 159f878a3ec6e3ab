package build

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/berth-dev/berth/fscopy"
)

// archiveKind tells a local archive ADD extracts by its first bytes: "tar",
// "gzip", "bzip2", "xz", "zstd", or "" for another file.
func archiveKind(head []byte) string {
	for _, m := range []struct {
		kind  string
		magic []byte
	}{
		{"gzip", []byte{0x1f, 0x8b}},
		{"bzip2", []byte("BZh")},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	} {
		if bytes.HasPrefix(head, m.magic) {
			return m.kind
		}
	}
	if len(head) >= 262 && string(head[257:262]) == "ustar" {
		return "tar"
	}
	return ""
}

// splitArchives separates the sources ADD extracts (archive files named
// as sources) from those it copies.
func splitArchives(t tree, entries []entry) (files, archives []entry) {
	for _, e := range entries {
		if e.top && e.info.Mode().IsRegular() && fileKind(t, e.src) != "" {
			archives = append(archives, e)
		} else {
			files = append(files, e)
		}
	}
	return files, archives
}

// fileKind reports whether rel is a tar archive, plain or compressed
// (a compressed file that is not a tar is copied as it is, as Docker does).
func fileKind(t tree, rel string) string {
	r, err := openTar(t, rel)
	if errors.Is(err, ErrUnsupported) {
		return "xz" // refused when extracted
	}
	if err != nil {
		return ""
	}
	defer r.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(r, head)
	return archiveKind(head[:n])
}

// extractArchives unpacks each archive into the directory dest of the
// filesystem at root, keeping the archive's owners, as Docker's ADD does.
func extractArchives(root string, t tree, archives []entry, dest string) error {
	if len(archives) == 0 {
		return nil
	}
	dr, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer dr.Close()
	rel := strings.TrimPrefix(path.Clean(dest), "/")
	if rel != "" {
		if err := dr.MkdirAll(rel, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dest, err)
		}
	}
	dst, err := fscopy.OpenRoot(root)
	if err != nil {
		return err
	}
	defer dst.Close()
	for _, a := range archives {
		if err := extractOne(t, a.src, dst, "/"+rel); err != nil {
			return fmt.Errorf("extracting %s: %w", a.src, err)
		}
	}
	return nil
}

func extractOne(t tree, src string, dst *fscopy.Root, dir string) error {
	r, err := openTar(t, src)
	if err != nil {
		return err
	}
	defer r.Close()
	return fscopy.ExtractArchive(r, dst, dir, fscopy.Owner{Keep: true})
}

// openTar opens rel of t decompressed (gzip, bzip2 or zstd; xz is not
// supported yet).
func openTar(t tree, rel string) (io.ReadCloser, error) {
	f, err := t.root.Open(rel)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	head, _ := br.Peek(512)
	var r io.Reader = br
	var closeR func()
	switch archiveKind(head) {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, err
		}
		r, closeR = zr, func() { zr.Close() }
	case "bzip2":
		r = bzip2.NewReader(br)
	case "zstd":
		zr, err := zstd.NewReader(br)
		if err != nil {
			f.Close()
			return nil, err
		}
		r, closeR = zr, zr.Close
	case "xz":
		f.Close()
		return nil, fmt.Errorf("xz archives: %w", ErrUnsupported)
	}
	return readCloser{r, func() error {
		if closeR != nil {
			closeR()
		}
		return f.Close()
	}}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
