package fscopy

import (
	"fmt"
	"io"
)

// Options of a copy between two roots.
type Options struct {
	FollowLink bool  // follow a symlink that is the source's last element (-L)
	Owner      Owner // who owns what is written
}

// Copy copies srcPath of src to dstPath of dst with docker cp's rules.
func Copy(src *Root, srcPath string, dst *Root, dstPath string, opts Options) error {
	s, err := ResolveSource(src, srcPath, opts.FollowLink)
	if err != nil {
		return err
	}
	d, err := ResolveDest(dst, dstPath)
	if err != nil {
		return err
	}
	pl, err := Place(s, d)
	if err != nil {
		return err
	}
	s.Name = pl.Name
	sub, err := dst.Sub(pl.Dir)
	if err != nil {
		return err
	}
	defer sub.Close()
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := writeTar(pw, src, s)
		pw.CloseWithError(err)
		written <- err
	}()
	err = extract(pr, sub, opts.Owner)
	if err == nil {
		_, err = io.Copy(io.Discard, pr) // the end-of-archive padding
	}
	pr.CloseWithError(fmt.Errorf("extraction ended: %v", err)) // unblocks the writer if extraction stopped early
	if werr := <-written; werr != nil {
		return werr // the cause; extraction only saw a broken stream
	}
	return err
}

// WriteArchive writes srcPath of src to w as a tar stream, its top entry
// named as srcPath asks (`cp SERVICE:SRC -`).
func WriteArchive(w io.Writer, src *Root, srcPath string, followLink bool) error {
	s, err := ResolveSource(src, srcPath, followLink)
	if err != nil {
		return err
	}
	return writeTar(w, src, s)
}

// ExtractArchive extracts the tar stream r into dstPath of dst, which must
// be a directory (`cp - SERVICE:DEST`).
func ExtractArchive(r io.Reader, dst *Root, dstPath string, owner Owner) error {
	d, err := ResolveDest(dst, dstPath)
	if err != nil {
		return err
	}
	if !d.IsDir {
		return fmt.Errorf("destination %s must be a directory: %w", dstPath, ErrNotDir)
	}
	sub, err := dst.Sub(d.Path)
	if err != nil {
		return err
	}
	defer sub.Close()
	return extract(r, sub, owner)
}
