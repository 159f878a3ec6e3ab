package image

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// smallImage is a two-layer image of plain files (no whiteouts, so no root
// needed to unpack it).
func smallImage(t *testing.T, tag string) v1.Image {
	t.Helper()
	return mkImage(t, "amd64", v1.Config{Cmd: []string{"/bin/" + tag}},
		layerOf(t, mkTar(t, dir("etc/"), file("etc/os-release", "ID=berth-test"))),
		layerOf(t, mkTar(t, file("tag", tag))))
}

// serve starts h on 127.0.0.1 and returns host:port.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func quietRegistry() http.Handler {
	return registry.New(registry.Logger(log.New(io.Discard, "", 0)))
}

// writeImage pushes img to ref with optional credentials.
func writeImage(t *testing.T, ref string, img v1.Image, opts ...remote.Option) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, opts...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
}

func TestPullWithBasicAuthFromDockerConfig(t *testing.T) {
	const user, pass = "berth", "s3cret"
	var denied atomic.Int32
	inner := quietRegistry()
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			denied.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="berth-test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	img := smallImage(t, "auth")
	ref := host + "/private/img:1"
	writeImage(t, ref, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass}))

	// Without credentials the pull is refused.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if _, err := mustOpen(t, t.TempDir()).Pull(context.Background(), ref, PullOptions{}); err == nil {
		t.Fatal("pull without credentials succeeded")
	}

	cfgDir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfgDir)
	got, err := mustOpen(t, t.TempDir()).Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatalf("pull with credentials from DOCKER_CONFIG: %v", err)
	}
	wantImage(t, got, img, ref)
}

// hostOnlyTransport fails the test for any request to another host than
// allowed.
type hostOnlyTransport struct {
	t       *testing.T
	allowed map[string]bool
	mu      sync.Mutex
	seen    map[string]int
}

func (h *hostOnlyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen[r.URL.Host]++
	h.mu.Unlock()
	if !h.allowed[r.URL.Host] {
		h.t.Errorf("request to %s, which the test does not allow", r.URL)
		return nil, errors.New("host not allowed in this test")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestPullFromMirrors(t *testing.T) {
	empty := serve(t, quietRegistry()) // a mirror without the image: skipped
	var mirrorHits atomic.Int32
	inner := quietRegistry()
	mirror := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mirrorHits.Add(1)
		inner.ServeHTTP(w, r)
	}))
	img := smallImage(t, "mirrored")
	writeImage(t, mirror+"/library/busybox:latest", img)
	mirrorHits.Store(0)

	rt := &hostOnlyTransport{t: t, allowed: map[string]bool{empty: true, mirror: true}, seen: map[string]int{}}
	s := mustOpen(t, t.TempDir(), WithTransport(rt), WithRegistryConfig(RegistryConfig{
		Mirrors: []string{"http://" + empty, "http://" + mirror + "/"},
	}))
	sources := map[string]bool{}
	got, err := s.Pull(context.Background(), "busybox", PullOptions{Progress: func(p Progress) { sources[p.Source] = true }})
	if err != nil {
		t.Fatal(err)
	}
	wantImage(t, got, img, "docker.io/library/busybox:latest")
	if mirrorHits.Load() == 0 {
		t.Error("the mirror served no request")
	}
	if len(sources) != 1 || !sources[mirror] {
		t.Errorf("progress reported sources %v, want only %s", sources, mirror)
	}
	if rt.seen[empty] == 0 {
		t.Errorf("the first mirror was not tried: %v", rt.seen)
	}
	if again, err := s.Get("busybox:latest"); err != nil || again.ID != got.ID {
		t.Errorf("Get(busybox:latest) = %v, %v", again, err)
	}

	// A reference of another registry never goes to a mirror.
	other := serve(t, quietRegistry())
	writeImage(t, other+"/x/y:1", img)
	rt.allowed[other] = true
	before := mirrorHits.Load()
	if _, err := s.Pull(context.Background(), other+"/x/y:1", PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if mirrorHits.Load() != before {
		t.Error("a non-docker.io pull went to the mirror")
	}
}

func TestMirrorFallsBackToOrigin(t *testing.T) {
	empty := serve(t, quietRegistry())
	rt := &hostOnlyTransport{t: t, allowed: map[string]bool{empty: true}, seen: map[string]int{}}
	origin := errors.New("origin reached")
	s := mustOpen(t, t.TempDir(), WithTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == originDockerHub || r.URL.Host == "index.docker.io" {
			return nil, origin
		}
		return rt.RoundTrip(r)
	})), WithRegistryConfig(RegistryConfig{Mirrors: []string{"http://" + empty}}))
	_, err := s.Pull(context.Background(), "busybox", PullOptions{})
	if !errors.Is(err, origin) {
		t.Fatalf("pull missing on the mirror: %v, want a fallback to the origin", err)
	}
	if rt.seen[empty] == 0 {
		t.Error("the mirror was not tried first")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRegistryConfigValidation(t *testing.T) {
	for _, c := range []RegistryConfig{
		{Mirrors: []string{"mirror.example"}},
		{Mirrors: []string{"ftp://mirror.example"}},
		{Mirrors: []string{"https://mirror.example/path"}},
		{Insecure: []string{"10.0.0.0/99"}},
		{Insecure: []string{"http://x"}},
	} {
		if _, err := Open(t.TempDir(), WithRegistryConfig(c)); err == nil {
			t.Errorf("Open accepted %+v", c)
		}
	}
	s := mustOpen(t, t.TempDir(), WithRegistryConfig(RegistryConfig{Insecure: []string{"reg.example:5000", "10.1.0.0/16", "plain.example"}}))
	for host, want := range map[string]bool{
		"reg.example:5000": true, "reg.example": false, "10.1.2.3:443": true, "10.2.0.1": false,
		"plain.example:8080": true, "localhost:5000": true, "127.0.0.1": true, "[::1]:5000": true, "docker.io": false,
	} {
		if got := s.isInsecure(host); got != want {
			t.Errorf("isInsecure(%q) = %v, want %v", host, got, want)
		}
	}
}

// A registry that sends half a layer and then drops the connection: the
// pull fails and leaves nothing half-written; the next pull completes.
func TestPullConnectionDroppedMidLayer(t *testing.T) {
	img := mkImage(t, "amd64", v1.Config{}, layerOf(t, mkTar(t, file("big", strings.Repeat("0123456789abcdef", 64<<10)))), layerOf(t, mkTar(t, file("small", "x"))))
	layers, _ := img.Layers()
	bad, _ := layers[0].Digest()
	var drop atomic.Bool
	drop.Store(true)
	inner := quietRegistry()
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !drop.Load() || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+bad.String()) {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n", len(body))
		buf.Write(body[:len(body)/2])
		buf.Flush()
	}))
	ref := host + "/test/dropped:1"
	writeImage(t, ref, img)

	s := mustOpen(t, t.TempDir())
	if _, err := s.Pull(context.Background(), ref, PullOptions{}); err == nil {
		t.Fatal("pull through a dropped connection succeeded")
	}
	if s.hasBlob(bad) {
		t.Error("the cut blob was committed")
	}
	assertEmptyDir(t, s.path("tmp"))
	cf, _ := img.ConfigFile()
	if snap, _ := s.snapshotDir(cf.RootFS.DiffIDs[0].String()); isDir(snap) {
		t.Error("the cut layer's snapshot was committed")
	}
	if _, err := s.Get(ref); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after the failed pull: %v, want ErrNotFound", err)
	}

	drop.Store(false)
	got, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatalf("pull after the registry recovered: %v", err)
	}
	wantImage(t, got, img, ref)
	verifyStore(t, s)
}

// verifyStore checks every blob against its name and that every image's
// snapshots exist.
func verifyStore(t *testing.T, s *Store) {
	t.Helper()
	ents, err := os.ReadDir(s.path("blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(s.path("blobs", "sha256"), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h, _, err := v1.SHA256(bufio.NewReader(f))
		f.Close()
		if err != nil || h.Hex != e.Name() {
			t.Errorf("blob %s has digest %s (%v)", e.Name(), h, err)
		}
	}
	imgs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		for _, d := range img.DiffIDs {
			if dir, _ := s.snapshotDir(d); !isDir(dir) {
				t.Errorf("image %s: snapshot %s missing", img.Ref, d)
			}
		}
	}
}
