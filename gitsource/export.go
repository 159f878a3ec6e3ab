package gitsource

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Commit describes a commit for status lines and events.
type Commit struct {
	Hash    plumbing.Hash
	Subject string // the first line of the message
	When    time.Time
}

// Short is the commit's first 12 hex digits, as status shows it.
func (c Commit) Short() string { return c.Hash.String()[:12] }

// ErrNoPath reports a stack directory the commit does not have.
var ErrNoPath = errors.New("no such directory in the commit")

// Describe returns the commit h of the copy.
func (r *Repo) Describe(h plumbing.Hash) (Commit, error) {
	c, err := r.git.CommitObject(h)
	if err != nil {
		return Commit{}, fmt.Errorf("commit %s: %w", h, err)
	}
	subject, _, _ := strings.Cut(c.Message, "\n")
	return Commit{Hash: h, Subject: subject, When: c.Committer.When}, nil
}

// Export writes the files of commit h below the source's Path into dest,
// replacing what dest held: the new tree is written beside it and renamed
// into place, so dest is never half one commit and half another. Modes
// are git's (0644, 0755, symbolic links); submodules are refused.
func (r *Repo) Export(h plumbing.Hash, dest string) error {
	c, err := r.git.CommitObject(h)
	if err != nil {
		return fmt.Errorf("commit %s: %w", h, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return err
	}
	if p := strings.Trim(path.Clean("/"+r.src.Path), "/"); p != "" {
		if tree, err = tree.Tree(p); err != nil {
			return fmt.Errorf("%q at commit %s: %w", r.src.Path, h.String()[:12], ErrNoPath)
		}
	}
	next := dest + ".next"
	if err := os.RemoveAll(next); err != nil {
		return err
	}
	if err := os.MkdirAll(next, 0o700); err != nil {
		return err
	}
	if err := writeTree(tree, next); err != nil {
		os.RemoveAll(next)
		return fmt.Errorf("export commit %s: %w", h.String()[:12], err)
	}
	return swapDir(next, dest)
}

// writeTree writes every entry of t below dir.
func writeTree(t *object.Tree, dir string) error {
	walker := object.NewTreeWalker(t, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch entry.Mode {
		case filemode.Dir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case filemode.Submodule:
			return fmt.Errorf("%s is a submodule: submodules are not supported by berth yet", name)
		default:
			if err := writeEntry(t, name, entry.Mode, target); err != nil {
				return err
			}
		}
	}
}

// writeEntry writes one blob: a file or a symbolic link.
func writeEntry(t *object.Tree, name string, mode filemode.FileMode, target string) error {
	f, err := t.File(name)
	if err != nil {
		return err
	}
	rd, err := f.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	if mode == filemode.Symlink {
		link, err := io.ReadAll(io.LimitReader(rd, 4096))
		if err != nil {
			return err
		}
		return os.Symlink(string(link), target)
	}
	perm := os.FileMode(0o644)
	if mode == filemode.Executable {
		perm = 0o755
	}
	out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, rd); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// swapDir puts next in the place of dest and removes the old dest.
func swapDir(next, dest string) error {
	old := dest + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(dest, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(next, dest); err != nil {
		return err
	}
	return os.RemoveAll(old)
}
