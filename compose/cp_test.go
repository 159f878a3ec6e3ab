package compose

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseCpArgs(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		src, dst string
		want     cpArgs
		err      bool
	}{
		{"web:/etc/passwd", "out", cpArgs{service: "web", from: true, src: "/etc/passwd", dst: filepath.Join(wd, "out")}, false},
		{"web:/etc", "-", cpArgs{service: "web", from: true, src: "/etc", dst: "-"}, false},
		{"./a:b", "web:/tmp/", cpArgs{service: "web", src: filepath.Join(wd, "a:b"), dst: "/tmp/"}, false},
		{"/abs/dir/.", "web:/tmp", cpArgs{service: "web", src: "/abs/dir/.", dst: "/tmp"}, false},
		{"dir/", "web:/tmp", cpArgs{service: "web", src: filepath.Join(wd, "dir") + "/", dst: "/tmp"}, false},
		{".", "web:/tmp", cpArgs{service: "web", src: wd + "/.", dst: "/tmp"}, false},
		{"-", "web:/tmp", cpArgs{service: "web", src: "-", dst: "/tmp"}, false},
		{"web:/a", "db:/b", cpArgs{}, true},
		{"a", "b", cpArgs{}, true},
		{"", "web:/b", cpArgs{}, true},
		{"web:/b", "", cpArgs{}, true},
	}
	for _, c := range cases {
		got, err := parseCpArgs(c.src, c.dst)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("parseCpArgs(%q, %q) = %+v, %v; want %+v (error %v)", c.src, c.dst, got, err, c.want, c.err)
		}
	}
}
