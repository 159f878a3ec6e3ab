package build

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBuildAddURL(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	content := "hello from the web\n"
	lastModified := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/files/hello.txt", "/":
			w.Header().Set("Last-Modified", lastModified.Format(http.TimeFormat))
			w.Write([]byte(content))
		case "/pkg.tar.gz":
			w.Write([]byte("\x1f\x8b not really a tar"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	dir := writeContext(t, map[string]string{})
	df := "FROM busybox\nADD " + srv.URL + "/files/hello.txt " + srv.URL + "/pkg.tar.gz /opt/\n" +
		"ADD --checksum=sha256:" + sum(content) + " " + srv.URL + "/files/hello.txt /checked\n" +
		"ADD --chmod=644 --chown=12:34 " + srv.URL + "/ /web/\n" +
		"RUN cat /opt/hello.txt > /ran\n"
	img, steps, err := e.build(t, Options{Context: dir, DockerfileInline: df})
	if err != nil {
		t.Fatal(err)
	}
	code, out := e.run(t, img, "sh", "-c", "cd / && stat -c '%n %a %u:%g %Y %s' opt/hello.txt opt/pkg.tar.gz checked web/__unnamed__ && cat ran")
	want := "opt/hello.txt 600 0:0 " + strconv.FormatInt(lastModified.Unix(), 10) + " 19\nopt/pkg.tar.gz 600 0:0"
	if code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "\nchecked 600 0:0 ") || !strings.Contains(out, "\nweb/__unnamed__ 644 12:34 ") || !strings.HasSuffix(out, "\n"+content) {
		t.Errorf("ADD <url>: %d\n%s\nwant it to start with\n%s", code, out, want)
	}
	for _, s := range steps {
		if s.Cached {
			t.Errorf("first build: %q cached", s.Instruction)
		}
	}

	// The same content again: all cached, though it is downloaded.
	_, steps, err = e.build(t, Options{Context: dir, DockerfileInline: df})
	if err != nil {
		t.Fatal(err)
	}
	var cached []bool
	for _, s := range steps[1:] {
		cached = append(cached, s.Cached)
	}
	if !slices.Equal(cached, []bool{true, true, true, true}) {
		t.Errorf("same content: cached %v", cached)
	}
	// Other content: the first ADD and what follows run again, and the
	// checksum no longer matches.
	mu.Lock()
	content = "changed\n"
	mu.Unlock()
	_, steps, err = e.build(t, Options{Context: dir, DockerfileInline: df})
	if err == nil || !strings.Contains(err.Error(), "Dockerfile:3: ADD --checksum=") || !strings.Contains(err.Error(), "digest mismatch sha256:"+sum("changed\n")) {
		t.Errorf("checksum mismatch: %v", err)
	}
	if len(steps) < 2 || steps[1].Cached {
		t.Errorf("changed content: the first ADD was cached: %+v", steps)
	}

	for _, tc := range []struct {
		df   string
		want error
		text string
	}{
		{"FROM busybox\nADD " + srv.URL + "/nothere /x\n", nil, "Dockerfile:2: ADD " + srv.URL + "/nothere /x: downloading " + srv.URL + "/nothere: invalid response status 404 Not Found"},
		{"FROM busybox\nADD https://example.com/repo.git /src\n", ErrUnsupported, "Dockerfile:2: ADD https://example.com/repo.git /src: ADD of a git repository"},
		{"FROM busybox\nADD git@example.com:repo /src\n", ErrUnsupported, "ADD of a git repository"},
		{"FROM busybox\nADD --keep-git-dir=true " + srv.URL + "/x /src\n", ErrUnsupported, "--keep-git-dir"},
		{"FROM busybox\nADD --checksum=sha256:" + sum("x") + " Dockerfile /src\n", nil, "checksum can't be specified for non-HTTP(S) sources"},
		{"FROM busybox\nADD --checksum=md5:abc " + srv.URL + "/x /src\n", nil, "--checksum=md5:abc: want sha256:"},
	} {
		_, _, err := e.build(t, Options{Context: dir, DockerfileInline: tc.df})
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%q: %v, want %q", tc.df, err, tc.text)
		}
	}
}
