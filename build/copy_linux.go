package build

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/berth-dev/berth/fscopy"
	"github.com/berth-dev/berth/image"
	berthrt "github.com/berth-dev/berth/runtime"
)

// copyFlags are the flags of a COPY or ADD.
type copyFlags struct {
	from, chown, chmod string
	checksum           string // ADD --checksum's hex SHA-256
	add                bool
}

// copy runs a COPY or ADD: the sources, from the context or another
// stage, are written under the destination in a container's filesystem.
func (b *builder) copy(ctx context.Context, r *stageResult, cmd instructions.Command, sd instructions.SourcesAndDest, f copyFlags, text string) (bool, []string, error) {
	source := b.context
	if len(sd.SourceContents) > 0 {
		if len(sd.SourcePaths) > 0 || f.from != "" {
			return false, nil, fmt.Errorf("%s of heredocs mixed with files: %w", strings.ToUpper(cmd.Name()), ErrUnsupported)
		}
		t, paths, err := b.heredocTree(sd.SourceContents)
		if err != nil {
			return false, nil, err
		}
		defer t.root.Close()
		source, sd.SourcePaths = t, paths
	}
	remote := f.add && len(sd.SourcePaths) > 0 && isHTTP(sd.SourcePaths[0]) // checkAdd saw all are
	if remote {
		t, names, err := b.downloadTree(ctx, sd.SourcePaths, f.checksum)
		if err != nil {
			return false, nil, err
		}
		defer t.root.Close()
		source, sd.SourcePaths = t, names
	}
	mode, err := parseChmod(f.chmod)
	if err != nil {
		return false, nil, err
	}
	dest := sd.DestPath
	destIsDir := strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.")
	if !path.IsAbs(dest) {
		dest = path.Join(workdir("", r.conf.cfg.WorkingDir), dest)
	}
	var extra string
	var src *stageResult
	var ctxEntries []entry // the context's entries, read once for the key and the copy
	var ctxIsDir bool
	fromStage, fromDir := f.from != "", ""
	if fromStage {
		if j, ok := stageIndex(b.df.stages, f.from, r.index); ok {
			src, err = b.stage(ctx, j)
		} else if ref, dir := b.named(f.from); dir != "" {
			fromStage, fromDir = false, dir
		} else {
			src, err = b.imageSource(ctx, ref)
		}
		if err != nil {
			return false, nil, err
		}
	}
	if fromDir != "" {
		t, err := namedTree(fromDir)
		if err != nil {
			return false, nil, fmt.Errorf("named context %q: %w", f.from, err)
		}
		defer t.root.Close()
		source = t
	}
	if fromStage {
		extra = "stage:" + src.key
	} else {
		if ctxEntries, ctxIsDir, err = source.collect(sd.SourcePaths); err != nil {
			return false, nil, err
		}
		if extra, err = source.contentDigest(ctxEntries); err != nil {
			return false, nil, err
		}
	}
	key, err := stepKey(r.key, cmd, r.conf, r.scope(), extra)
	if err != nil {
		return false, nil, err
	}
	return b.fsStep(ctx, r, key, text, func() (*image.Layer, []string, error) {
		l, err := b.inContainer(ctx, r, berthrt.Config{Args: []string{"true"}}, func(cfg berthrt.Config) error {
			return b.inFilesystem(ctx, cfg, func(root string) error {
				return b.withSource(ctx, source, src, func(t tree) error {
					entries, isDir := slices.Clone(ctxEntries), ctxIsDir // what the key was made of
					if src != nil {
						var err error
						if entries, isDir, err = t.collect(sd.SourcePaths); err != nil {
							return err
						}
					}
					var archives []entry
					if f.add && src == nil && !remote { // a download is never extracted
						entries, archives = splitArchives(t, entries)
						if len(archives) > 0 {
							isDir = true
						}
					}
					if len(entries) > 0 || len(archives) == 0 {
						if err := place(root, t, entries, isDir || destIsDir, dest, f.chown, mode); err != nil {
							return err
						}
					}
					return extractArchives(root, t, archives, dest)
				})
			})
		})
		return l, nil, err
	})
}

// withSource calls fn with the tree COPY reads: source (the context or
// its heredocs), or the mounted filesystem of stage src.
func (b *builder) withSource(ctx context.Context, source tree, src *stageResult, fn func(tree) error) error {
	if src == nil {
		return fn(source)
	}
	_, err := b.inContainer(ctx, src, berthrt.Config{Args: []string{"true"}}, func(cfg berthrt.Config) error {
		return b.inFilesystem(ctx, cfg, func(root string) error {
			rt, err := os.OpenRoot(root)
			if err != nil {
				return err
			}
			defer rt.Close()
			return fn(tree{root: rt})
		})
	})
	return err
}

// place writes entries under dest in the filesystem at root: into dest
// when it is a directory (by the sources, a trailing slash, or because
// it is one), else as the file dest.
func place(root string, t tree, entries []entry, destIsDir bool, dest, chown string, mode *fs.FileMode) error {
	dr, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer dr.Close()
	uid, gid, err := resolveChown(dr, chown)
	if err != nil {
		return err
	}
	rel := strings.TrimPrefix(path.Clean(dest), "/")
	dir := rel
	if !destIsDir && len(entries) == 1 {
		if fi, err := dr.Stat(nonEmpty(rel)); err != nil || !fi.IsDir() {
			dir = path.Dir(rel)
			entries[0].name = path.Base(rel)
		}
	}
	if dir != "" && dir != "." {
		if err := mkdirAllOwned(dr, dir, uid, gid); err != nil {
			return fmt.Errorf("creating %s: %w", "/"+dir, err)
		}
	}
	dst, err := fscopy.OpenRoot(root)
	if err != nil {
		return err
	}
	defer dst.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(t.writeTar(pw, entries, copyOptions{uid: uid, gid: gid, mode: mode})) }()
	err = fscopy.ExtractArchive(pr, dst, "/"+dir, fscopy.Owner{Keep: true})
	pr.CloseWithError(fmt.Errorf("extraction ended"))
	if err != nil {
		return fmt.Errorf("writing to %s: %w", dest, err)
	}
	return nil
}

// resolveUser resolves a user ("name", "uid", "name:group", …) against
// the /etc/passwd and /etc/group of the filesystem at root, as the
// runtime does for a container's USER.
func resolveUser(root *os.Root, spec string) (berthrt.Identity, error) {
	var readers [2]io.Reader
	for i, name := range []string{"etc/passwd", "etc/group"} {
		if f, err := root.Open(name); err == nil {
			defer f.Close()
			readers[i] = bufio.NewReader(f)
		}
	}
	return berthrt.ResolveUser(spec, readers[0], readers[1])
}

// mkdirAllOwned makes directory rel and its missing parents in root,
// the ones it makes owned by uid:gid (BuildKit's WORKDIR under USER, and
// the destination a COPY --chown makes).
func mkdirAllOwned(root *os.Root, rel string, uid, gid int) error {
	var missing []string
	for p := rel; p != "." && p != "" && p != "/"; p = path.Dir(p) {
		if _, err := root.Lstat(p); err == nil {
			break
		}
		missing = append(missing, p)
	}
	if err := root.MkdirAll(rel, 0o755); err != nil {
		return err
	}
	for _, p := range missing {
		if err := root.Lchown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// resolveChown resolves --chown against the image's /etc/passwd and
// /etc/group; a user without group uses the user's ID as group, as
// Docker does.
func resolveChown(root *os.Root, chown string) (uid, gid int, err error) {
	if chown == "" {
		return 0, 0, nil
	}
	usr, grp, hasGroup := strings.Cut(chown, ":")
	u, uerr := strconv.Atoi(usr)
	g, gerr := strconv.Atoi(grp)
	if uerr == nil && (!hasGroup || gerr == nil) {
		if !hasGroup {
			g = u
		}
		return u, g, nil
	}
	id, err := resolveUser(root, chown)
	if err != nil {
		return 0, 0, fmt.Errorf("--chown=%s: %w", chown, err)
	}
	if !hasGroup {
		return id.UID, id.UID, nil
	}
	return id.UID, id.GID, nil
}

// parseChmod parses --chmod's octal mode; nil when not given.
func parseChmod(s string) (*fs.FileMode, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return nil, fmt.Errorf("--chmod=%s: only octal modes are %w", s, ErrUnsupported)
	}
	m := fs.FileMode(v)
	return &m, nil
}

// heredocTree writes COPY's heredocs as files of a fresh directory of the
// build's temporary directory and returns it as a source tree, with
// their names.
func (b *builder) heredocTree(docs []instructions.SourceContent) (tree, []string, error) {
	tmp, err := b.tempDir()
	if err != nil {
		return tree{}, nil, err
	}
	dir, err := os.MkdirTemp(tmp, "heredoc-")
	if err != nil {
		return tree{}, nil, fmt.Errorf("writing heredocs: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return tree{}, nil, err
	}
	var names []string
	for _, d := range docs {
		name, err := cleanSource(d.Path)
		if err != nil || name == "" {
			root.Close()
			return tree{}, nil, fmt.Errorf("heredoc name %q: %w", d.Path, ErrOutsideContext)
		}
		if err := root.WriteFile(name, []byte(d.Data), 0o644); err != nil {
			root.Close()
			return tree{}, nil, fmt.Errorf("writing heredoc %s: %w", name, err)
		}
		names = append(names, name)
	}
	return tree{root: root}, names, nil
}
