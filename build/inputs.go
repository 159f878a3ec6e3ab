package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Inputs are digests of what a build reads: to tell, without building,
// whether an image is still what its Dockerfile and context would make.
type Inputs struct {
	Dockerfile string // the Dockerfile's content
	Context    string // the context's files the ignore file keeps: names, types, modes, content (not times)
}

// ReadInputs digests the Dockerfile and the context of o, honouring the
// ignore file as the build does.
func ReadInputs(o Options) (Inputs, error) {
	_, src, err := readDockerfile(o.Context, o.Dockerfile, o.DockerfileInline)
	if err != nil {
		return Inputs{}, err
	}
	df := sha256.Sum256(src)
	dfPath := ""
	if o.DockerfileInline == "" {
		dfPath = o.Dockerfile
		if dfPath == "" {
			dfPath = "Dockerfile"
		}
		if !filepath.IsAbs(dfPath) {
			dfPath = filepath.Join(o.Context, dfPath)
		}
	}
	pm, err := loadIgnore(ignoreFile(o.Context, dfPath))
	if err != nil {
		return Inputs{}, err
	}
	ctx, err := contextDigest(o.Context, dfPath, ignoreMatcher{pm})
	if err != nil {
		return Inputs{}, err
	}
	if ctx, err = withNamedContexts(ctx, o.NamedContexts); err != nil {
		return Inputs{}, err
	}
	return Inputs{Dockerfile: hex.EncodeToString(df[:]), Context: ctx}, nil
}

// withNamedContexts adds the named contexts to the context's digest: their
// names and values ("service:NAME" too), and the content of those that
// are directories.
// Without any, the digest is the context's alone.
func withNamedContexts(ctx string, named map[string]string) (string, error) {
	if len(named) == 0 {
		return ctx, nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", ctx)
	for _, name := range slices.Sorted(maps.Keys(named)) {
		v := named[name]
		if filepath.IsAbs(v) { // a directory, not an image
			d, err := contextDigest(v, "", ignoreMatcher{})
			if err != nil {
				return "", fmt.Errorf("named context %q: %w", name, err)
			}
			v += "\x00" + d
		}
		fmt.Fprintf(h, "%s\x00%s\x00", name, v)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// contextDigest hashes every path of dir that m keeps, in walk order,
// but the Dockerfile (whose digest is apart, so that a change of it is
// told from one of the context).
func contextDigest(dir, dockerfile string, m ignoreMatcher) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		ignored, descend, err := m.ignored(rel, d.IsDir())
		if err != nil {
			return err
		}
		if ignored || p == dockerfile {
			if d.IsDir() && !descend {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%v\x00", rel, fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s\x00", target)
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, err)
			}
			h.Write([]byte{0})
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the build context %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
