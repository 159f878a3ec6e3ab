package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// pulledStore is a store holding img pulled from a test registry as repoTag.
func pulledStore(t *testing.T, img v1.Image, repoTag string) (*Store, *Image) {
	t.Helper()
	reg := newTestRegistry(t)
	ref := reg.push(t, repoTag, img)
	s := mustOpen(t, t.TempDir())
	got, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s, got
}

func TestSaveLoadRoundTrip(t *testing.T) {
	img := smallImage(t, "saved")
	other := smallImage(t, "other") // shares the bottom layer
	s, orig := pulledStore(t, img, "test/saved:1")
	reg := newTestRegistry(t)
	o, err := s.Pull(context.Background(), reg.push(t, "test/other:2", other), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{FormatDocker, FormatOCI} {
		for _, gz := range []bool{false, true} {
			name := format
			if gz {
				name += "+gzip"
			}
			t.Run(name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := s.Save(context.Background(), &buf, []string{orig.Ref, o.Ref}, format); err != nil {
					t.Fatal(err)
				}
				archive := buf.Bytes()
				if gz {
					var z bytes.Buffer
					zw := gzip.NewWriter(&z)
					zw.Write(archive)
					zw.Close()
					archive = z.Bytes()
				}
				fresh := mustOpen(t, t.TempDir())
				loaded, err := fresh.Load(context.Background(), bytes.NewReader(archive), nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(loaded) != 2 {
					t.Fatalf("loaded %d images, want 2", len(loaded))
				}
				for i, want := range []*Image{orig, o} {
					got, err := fresh.Get(want.Ref)
					if err != nil {
						t.Fatal(err)
					}
					if got.ID != want.ID || !reflect.DeepEqual(got.DiffIDs, want.DiffIDs) || !reflect.DeepEqual(got.Config, want.Config) || loaded[i].ID != want.ID {
						t.Errorf("loaded %+v, want %+v", got, want)
					}
					if format == FormatOCI && got.Digest != want.Digest {
						t.Errorf("OCI round trip changed the manifest digest: %s, want %s", got.Digest, want.Digest)
					}
					if _, err := fresh.Snapshots(context.Background(), got); err != nil {
						t.Error(err)
					}
				}
				verifyStore(t, fresh)
				assertEmptyDir(t, fresh.path("tmp"))
			})
		}
	}

	// go-containerregistry reads the docker archive as Docker would.
	var buf bytes.Buffer
	if err := s.Save(context.Background(), &buf, []string{orig.Ref}, FormatDocker); err != nil {
		t.Fatal(err)
	}
	timg, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := timg.ConfigName(); err != nil || id.String() != orig.ID {
		t.Errorf("ggcr reads the docker archive as image %s (%v), want %s", id, err, orig.ID)
	}
	if err := s.Save(context.Background(), io.Discard, []string{orig.Ref}, "rar"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Save in an unknown format: %v", err)
	}
}

// An archive shaped as `docker save` writes it, made by hand.
func TestLoadHandMadeDockerArchive(t *testing.T) {
	layer := mkTar(t, dir("app/"), file("app/hello", "hello from docker"))
	diffID := sha256Of(layer)
	cfg := []byte(`{"architecture":"amd64","os":"linux","config":{"Cmd":["/app/hello"]},"rootfs":{"type":"layers","diff_ids":["` + diffID.String() + `"]}}`)
	cfgID := sha256Of(cfg)
	build := func(cfgName string, layerBody []byte) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		add := func(name string, body []byte) {
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))})
			tw.Write(body)
		}
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "0123abcd/", Mode: 0o755})
		add("0123abcd/layer.tar", layerBody)
		add("0123abcd/VERSION", []byte("1.0"))
		add(cfgName, cfg)
		m, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"handmade:1", "example.com/team/handmade:1"}, "Layers": []string{"0123abcd/layer.tar"}}})
		add("manifest.json", m)
		add("repositories", []byte(`{"handmade":{"1":"0123abcd"}}`))
		tw.Close()
		return buf.Bytes()
	}

	s := mustOpen(t, t.TempDir())
	imgs, err := s.Load(context.Background(), bytes.NewReader(build(cfgID.Hex+".json", layer)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 || imgs[0].ID != cfgID.String() || imgs[0].Ref != "docker.io/library/handmade:1" || imgs[1].Ref != "example.com/team/handmade:1" {
		t.Fatalf("loaded %+v", imgs)
	}
	snaps, err := s.Snapshots(context.Background(), &imgs[0])
	if err != nil {
		t.Fatal(err)
	}
	assertFile(t, snaps[0]+"/app/hello", "hello from docker")

	// A config whose name is not its digest, or a layer that is not what
	// the config says, is refused and leaves no image.
	for name, archive := range map[string][]byte{
		"config digest":  build(sha256Of([]byte("x")).Hex+".json", layer),
		"layer diff ID":  build(cfgID.Hex+".json", mkTar(t, file("evil", "x"))),
		"not an archive": []byte("hello"),
	} {
		t.Run(name, func(t *testing.T) {
			s := mustOpen(t, t.TempDir())
			if _, err := s.Load(context.Background(), bytes.NewReader(archive), nil); err == nil {
				t.Fatal("load succeeded")
			}
			if imgs, _ := s.List(); len(imgs) != 0 {
				t.Errorf("a refused archive left images %+v", imgs)
			}
			assertEmptyDir(t, s.path("tmp"))
			assertEmptyDir(t, s.path("snapshots"))
		})
	}
}
