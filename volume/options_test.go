package volume

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    Options
		want []string // substrings of the error; none: valid
	}{
		{"plain", Options{}, nil},
		{"bind", Options{Type: "none", O: "bind", Device: dir}, nil},
		{"rbind ro", Options{Type: "none", O: "rbind,ro", Device: dir}, nil},
		{"tmpfs bare", Options{Type: "tmpfs"}, nil},
		{"tmpfs device ignored", Options{Type: "tmpfs", Device: "tmpfs", O: "size=64m"}, nil},
		{"tmpfs full", Options{Type: "tmpfs", O: "size=64m,mode=1777,uid=1000,gid=1000,noexec,nr_inodes=10k,huge=never"}, nil},
		{"tmpfs percent", Options{Type: "tmpfs", O: "size=50%"}, nil},
		{"unknown type", Options{Type: "nfs", O: "addr=1.2.3.4"}, []string{"driver_opts.type", `"nfs"`}},
		{"o without type", Options{O: "bind"}, []string{"driver_opts.o", "needs a type"}},
		{"device without type", Options{Device: dir}, []string{"driver_opts.device"}},
		{"bind without device", Options{Type: "none", O: "bind"}, []string{"driver_opts.device", "missing"}},
		{"none without bind", Options{Type: "none", Device: dir}, []string{"driver_opts.o", "needs o: bind"}},
		{"bind unknown flag", Options{Type: "none", O: "bind,size=1m", Device: dir}, []string{"driver_opts.o", `"size=1m"`}},
		{"bind relative", Options{Type: "none", O: "bind", Device: "data"}, []string{"driver_opts.device", "not an absolute path"}},
		{"bind missing", Options{Type: "none", O: "bind", Device: filepath.Join(dir, "nope")}, []string{"driver_opts.device", "does not exist"}},
		{"bind to file", Options{Type: "none", O: "bind", Device: file}, []string{"driver_opts.device", "not a directory"}},
		{"tmpfs bad size", Options{Type: "tmpfs", O: "size=big"}, []string{"driver_opts.o", "size", `"big"`}},
		{"tmpfs bad mode", Options{Type: "tmpfs", O: "mode=999"}, []string{"driver_opts.o", "mode"}},
		{"tmpfs big mode", Options{Type: "tmpfs", O: "mode=17777"}, []string{"mode"}},
		{"tmpfs bad uid", Options{Type: "tmpfs", O: "uid=-1"}, []string{"uid"}},
		{"tmpfs unknown", Options{Type: "tmpfs", O: "size=1m,colour=blue"}, []string{"driver_opts.o", `"colour"`}},
		{"tmpfs unknown flag", Options{Type: "tmpfs", O: "bind"}, []string{`"bind"`}},
		{"every problem", Options{Type: "none", O: "x"}, []string{"needs o: bind", `"x"`, "missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate(%s) = %v", tt.o, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("Validate(%s) = %v, want ErrInvalidOption", tt.o, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOptionsString(t *testing.T) {
	if s := (Options{}).String(); s != "{}" {
		t.Errorf("zero: %q", s)
	}
	if s := (Options{Type: "none", O: "bind", Device: "/d"}).String(); s != `{type: "none", o: "bind", device: "/d"}` {
		t.Errorf("bind: %q", s)
	}
}
