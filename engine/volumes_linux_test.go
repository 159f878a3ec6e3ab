package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

// seededImage imports busybox plus /seed (owned 1000:1000, mode 0750, with
// a file 0640, a setuid file and a symlink) and declares VOLUME /cache.
func seededImage(t *testing.T, h *host) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tr := tar.NewReader(bytes.NewReader(testutil.BusyboxTar(t)))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	add := func(h tar.Header, body string) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	add(tar.Header{Typeflag: tar.TypeDir, Name: "seed/", Mode: 0o750, Uid: 1000, Gid: 1000}, "")
	add(tar.Header{Typeflag: tar.TypeReg, Name: "seed/config", Mode: 0o640, Uid: 1000, Gid: 1000}, "seeded-by-image\n")
	add(tar.Header{Typeflag: tar.TypeReg, Name: "seed/tool", Mode: 0o4755}, "#!/bin/sh\n")
	add(tar.Header{Typeflag: tar.TypeSymlink, Name: "seed/link", Linkname: "config"}, "")
	add(tar.Header{Typeflag: tar.TypeDir, Name: "cache/", Mode: 0o755}, "")
	add(tar.Header{Typeflag: tar.TypeReg, Name: "cache/warm", Mode: 0o644}, "warm\n")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Images.Import(context.Background(), &buf, "berth-test/seeded:1", []string{"VOLUME /cache"}); err != nil {
		t.Fatal(err)
	}
}

func TestVolumeForms(t *testing.T) {
	h := newHost(t)
	seededImage(t, h)
	device := filepath.Join(h.dir, "device")
	os.MkdirAll(device, 0o755)
	secretFile := filepath.Join(h.dir, "token.txt")
	os.WriteFile(secretFile, []byte("s3cr3t-from-file"), 0o600)
	const inline = "inline-secret-value-42"
	p := h.load(`
services:
  app:
    image: berth-test/seeded:1
    read_only: true
    stop_grace_period: 200ms
    command: ["sh", "-c", "stat -c '%u:%g %a' /seed /seed/config; stat -c '%a' /seed/tool; readlink /seed/link; ls /empty | wc -l; cat /cache/warm; echo x > /dev-vol/f && echo dev-ok; echo t > /fast/f && echo fast-ok; grep ' /fast ' /proc/mounts | cut -d' ' -f3; touch /root-rw 2>/dev/null || echo rootfs-ro; stat -c '%u:%g %a' /run/secrets/token; cat /run/secrets/token; echo; cat /run/secrets/inline; echo; cat /app.conf; echo; exec sleep 1000"]
    volumes:
      - seeded:/seed
      - type: volume
        source: empty
        target: /empty
        volume: {nocopy: true}
      - devvol:/dev-vol
      - fast:/fast
    tmpfs: ["/tmp"]
    secrets:
      - inline
      - source: token
        uid: "1000"
        gid: "1000"
        mode: 0400
    configs:
      - source: conf
        target: /app.conf
  reader:
    image: berth-test/seeded:1
    command: ["sh", "-c", "cat /seed/config; echo x > /seed/y 2>/dev/null || echo from-ro; exec sleep 1000"]
    volumes_from: ["app:ro"]
    depends_on: [app]
volumes:
  seeded: {}
  empty: {}
  devvol:
    driver_opts: {type: none, o: bind, device: `+device+`}
  fast:
    driver_opts: {type: tmpfs, device: tmpfs, o: "size=8m"}
secrets:
  token:
    file: `+secretFile+`
  inline:
    environment: INLINE_SECRET
configs:
  conf:
    content: "conf-content"
`, "INLINE_SECRET="+inline)
	h.mustUp(p)
	app := spec.ContainerName(h.project, "app", 1)
	h.waitLog(app, "conf-content")
	want := []string{"1000:1000 750", "1000:1000 640", "4755", "config", "0", "warm", "dev-ok", "fast-ok", "tmpfs", "rootfs-ro",
		"1000:1000 400", "s3cr3t-from-file", inline, "conf-content"}
	got := strings.Split(strings.TrimSpace(h.logs(app)), "\n")
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("inside app:\n got %q\nwant %q", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(device, "f")); err != nil || string(b) != "x\n" {
		t.Errorf("the bind-device volume is not the device: %q %v", b, err)
	}
	reader := spec.ContainerName(h.project, "reader", 1)
	h.waitLog(reader, "from-ro")
	if !strings.Contains(h.logs(reader), "seeded-by-image") {
		t.Errorf("volumes_from: %q", h.logs(reader))
	}

	// The anonymous volume from the image's VOLUME survives recreation.
	anon := h.anonymousPath(app, "/cache")
	if err := os.WriteFile(filepath.Join(anon, "kept"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	p2 := h.load(strings.Replace(string(mustRead(t, filepath.Join(h.dir, "compose.yaml"))), "read_only: true", "read_only: true\n    environment: {V: '2'}", 1), "INLINE_SECRET="+inline)
	h.mustUp(p2)
	if _, err := os.Stat(filepath.Join(h.anonymousPath(app, "/cache"), "kept")); err != nil {
		t.Errorf("the anonymous volume did not survive recreation: %v", err)
	}

	// Secrets never reach the store, the logs of berth, or config output.
	db := mustRead(t, filepath.Join(h.e.Root, "berth.db"))
	wal, _ := os.ReadFile(filepath.Join(h.e.Root, "berth.db-wal"))
	for _, s := range []string{"s3cr3t-from-file", inline} {
		if bytes.Contains(db, []byte(s)) || bytes.Contains(wal, []byte(s)) {
			t.Errorf("secret %q is in the store", s)
		}
		if rendered, _ := p.Render("yaml"); bytes.Contains(rendered, []byte(s)) {
			t.Errorf("secret %q is in config output", s)
		}
	}
	h.down(true)
	if _, err := os.Stat(anon); err == nil {
		t.Error("down -v left the anonymous volume")
	}
	if entries, _ := os.ReadDir(device); len(entries) != 1 {
		t.Errorf("down -v must not delete a bind-device volume's device content: %v", entries)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// anonymousPath is the data directory of container's anonymous volume at target.
func (h *host) anonymousPath(container, target string) string {
	h.t.Helper()
	vols, err := h.e.store.Volumes(context.Background(), h.project)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, v := range vols {
		if v.Key == reconcile.AnonymousKey(container, target) {
			return h.e.volumes.Path(v.Name)
		}
	}
	h.t.Fatalf("%s has no anonymous volume at %s", container, target)
	return ""
}
