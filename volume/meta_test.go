package volume

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestCreateWithRecordsOptions(t *testing.T) {
	root := t.TempDir()
	dev := t.TempDir()
	bind := Options{Type: "none", O: "bind,ro", Device: dev}
	tmpfs := Options{Type: "tmpfs", O: "size=64m,mode=1777,ro"}
	m := New(root)
	before := time.Now().Add(-time.Second)
	for name, o := range map[string]Options{"p_plain": {}, "p_bind": bind, "p_tmp": tmpfs} {
		if _, err := m.CreateWith(name, o); err != nil {
			t.Fatalf("CreateWith(%s): %v", name, err)
		}
	}

	// A new manager, as in a later process, sees the same options.
	m = New(root)
	tests := []struct {
		name  string
		src   Source
		mount string
	}{
		{"p_plain", Source{Type: "bind", Path: m.Path("p_plain")}, m.Path("p_plain")},
		{"p_bind", Source{Type: "bind", Path: dev, ReadOnly: true}, dev},
		{"p_tmp", Source{Type: "tmpfs", Options: []string{"size=64m", "mode=1777"}, ReadOnly: true}, ""},
	}
	for _, tt := range tests {
		src, err := m.Source(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(src, tt.src) {
			t.Errorf("Source(%s) = %+v, want %+v", tt.name, src, tt.src)
		}
		in, err := m.Inspect(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if in.Mountpoint != tt.mount || in.CreatedAt.Before(before) || in.CreatedAt.After(time.Now()) {
			t.Errorf("Inspect(%s) = %+v", tt.name, in)
		}
	}

	list, err := m.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range list {
		names = append(names, in.Name)
	}
	if want := []string{"p_bind", "p_plain", "p_tmp"}; !reflect.DeepEqual(names, want) {
		t.Errorf("List = %v, want %v", names, want)
	}
	if list[0].Options != bind {
		t.Errorf("List options of p_bind = %s", list[0].Options)
	}

	// Idempotent with the same options; refused with others.
	if _, err := m.CreateWith("p_bind", bind); err != nil {
		t.Errorf("second CreateWith: %v", err)
	}
	if _, err := m.CreateWith("p_bind", Options{}); !errors.Is(err, ErrOptionsChanged) {
		t.Errorf("changing options: %v, want ErrOptionsChanged", err)
	}
	if _, err := m.Create("p_tmp"); !errors.Is(err, ErrOptionsChanged) {
		t.Errorf("Create over a tmpfs volume: %v, want ErrOptionsChanged", err)
	}

	// Removing a bind volume leaves its device alone.
	if err := os.WriteFile(filepath.Join(dev, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("p_bind"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dev, "keep")); err != nil {
		t.Errorf("device content lost: %v", err)
	}
	if _, err := m.Inspect("p_bind"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Inspect of removed volume: %v", err)
	}
}

func TestCreateWithRejectsBadOptions(t *testing.T) {
	m := New(t.TempDir())
	_, err := m.CreateWith("v", Options{Type: "none", O: "bind", Device: "/nonexistent/berth"})
	if !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("got %v", err)
	}
	if _, err := m.Inspect("v"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused volume was recorded: %v", err)
	}
}

func TestSourceNoticesMissingDevice(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "dev")
	if err := os.Mkdir(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	m := New(t.TempDir())
	if _, err := m.CreateWith("v", Options{Type: "none", O: "bind", Device: dev}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dev); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Source("v"); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("Source with the device gone: %v", err)
	}
}

func TestLegacyVolumeIsPlain(t *testing.T) {
	root := t.TempDir()
	m := New(root)
	if err := os.MkdirAll(m.Path("old"), 0o755); err != nil { // as Create made it before options
		t.Fatal(err)
	}
	in, err := m.Inspect("old")
	if err != nil || !in.Options.IsZero() || in.Mountpoint != m.Path("old") {
		t.Fatalf("Inspect = %+v, %v", in, err)
	}
	if _, err := m.CreateWith("old", Options{Type: "tmpfs"}); !errors.Is(err, ErrOptionsChanged) {
		t.Errorf("got %v", err)
	}
	// A crash after the options but before the data directory: CreateWith
	// finishes the job.
	if err := os.MkdirAll(filepath.Join(root, "volumes", "half"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Inspect("half"); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty volume directory: %v", err)
	}
	if _, err := m.CreateWith("half", Options{Type: "tmpfs"}); err != nil {
		t.Fatal(err)
	}
	if !m.Exists("half") {
		t.Error("half-made volume not completed")
	}
}

func TestIsEmpty(t *testing.T) {
	m := New(t.TempDir())
	p, err := m.Create("v")
	if err != nil {
		t.Fatal(err)
	}
	if empty, err := m.IsEmpty("v"); err != nil || !empty {
		t.Fatalf("new volume: %v %v", empty, err)
	}
	if err := os.Mkdir(filepath.Join(p, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if empty, err := m.IsEmpty("v"); err != nil || empty {
		t.Fatalf("filled volume: %v %v", empty, err)
	}
	if _, err := m.CreateWith("t", Options{Type: "tmpfs"}); err != nil {
		t.Fatal(err)
	}
	if empty, err := m.IsEmpty("t"); err != nil || !empty {
		t.Fatalf("tmpfs volume: %v %v", empty, err)
	}
	if _, err := m.IsEmpty("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing volume: %v", err)
	}
}
