package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// isURL reports whether an ADD source is a remote URL rather than a
// path of the context.
func isURL(src string) bool { return strings.Contains(src, "://") || strings.HasPrefix(src, "git@") }

// isHTTP reports whether src is a URL ADD downloads.
func isHTTP(src string) bool {
	return strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
}

// isGit reports whether src names a git repository, as BuildKit tells
// one from a plain download.
func isGit(src string) bool {
	if strings.HasPrefix(src, "git@") || strings.HasPrefix(src, "git://") || strings.HasPrefix(src, "ssh://") {
		return true
	}
	u, err := url.Parse(src)
	return err == nil && strings.HasSuffix(u.Path, ".git")
}

// checkAdd refuses the ADD forms berth does not do yet and the ones
// Docker refuses.
func checkAdd(c *instructions.AddCommand) error {
	remote := 0
	for _, s := range c.SourcePaths {
		switch {
		case isGit(s):
			return fmt.Errorf("ADD of a git repository (%s): %w", s, ErrUnsupported)
		case isHTTP(s):
			remote++
		case isURL(s):
			return fmt.Errorf("ADD from %s: only http:// and https:// URLs are downloaded: %w", s, ErrUnsupported)
		}
	}
	if c.KeepGitDir != nil {
		return fmt.Errorf("ADD --keep-git-dir (git repositories): %w", ErrUnsupported)
	}
	if c.Unpack != nil || len(c.ExcludePatterns) > 0 {
		return fmt.Errorf("ADD --unpack and --exclude: %w", ErrUnsupported)
	}
	if remote > 0 && remote < len(c.SourcePaths) {
		return fmt.Errorf("ADD of URLs and local files together: %w", ErrUnsupported)
	}
	if c.Checksum != "" {
		if remote == 0 {
			return fmt.Errorf("checksum can't be specified for non-HTTP(S) sources")
		}
		if _, err := parseChecksum(c.Checksum); err != nil {
			return err
		}
	}
	return nil
}

// parseChecksum is the hex SHA-256 of --checksum=sha256:HEX.
func parseChecksum(s string) (string, error) {
	hexSum, ok := strings.CutPrefix(s, "sha256:")
	if _, err := hex.DecodeString(hexSum); !ok || err != nil || len(hexSum) != 64 {
		return "", fmt.Errorf("--checksum=%s: want sha256:<64 hex digits>", s)
	}
	return strings.ToLower(hexSum), nil
}

// urlFileName is the name a downloaded file gets, as BuildKit names it:
// the last element of the URL's path, "__unnamed__" without one.
func urlFileName(src string) string {
	if u, err := url.Parse(src); err == nil {
		if base := path.Base(u.Path); base != "." && base != "/" {
			return base
		}
	}
	return "__unnamed__"
}

// downloadTree downloads each URL into a fresh directory of the build's
// temporary directory and returns it as a source tree, with the files'
// names. As Docker, a file is mode 0600 with the time of Last-Modified
// (when sent); with checksum (hex SHA-256, one URL) the content must
// match it.
func (b *builder) downloadTree(ctx context.Context, urls []string, checksum string) (tree, []string, error) {
	tmp, err := b.tempDir()
	if err != nil {
		return tree{}, nil, err
	}
	dir, err := os.MkdirTemp(tmp, "download-")
	if err != nil {
		return tree{}, nil, fmt.Errorf("downloading: %w", err)
	}
	var names []string
	for _, u := range urls {
		name := urlFileName(u)
		if err := download(ctx, u, filepath.Join(dir, name), checksum); err != nil {
			return tree{}, nil, err
		}
		names = append(names, name)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return tree{}, nil, err
	}
	return tree{root: root}, names, nil
}

// download writes the body of a GET of u to the file dst.
func download(ctx context.Context, u, dst, checksum string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("downloading %s: invalid response status %s", u, resp.Status)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", u, err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("downloading %s: %w", u, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); checksum != "" && got != checksum {
		return fmt.Errorf("downloading %s: digest mismatch sha256:%s: expected sha256:%s", u, got, checksum)
	}
	if err := os.Chmod(dst, 0o600); err != nil { // whatever the umask
		return fmt.Errorf("downloading %s: %w", u, err)
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			if err := os.Chtimes(dst, t, t); err != nil {
				return fmt.Errorf("downloading %s: %w", u, err)
			}
		}
	}
	return nil
}
