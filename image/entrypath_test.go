package image

import (
	"errors"
	"testing"
)

func TestCleanEntryName(t *testing.T) {
	ok := map[string]string{
		"a":           "a",
		"./a/b":       "a/b",
		"a/":          "a",
		"./":          ".",
		".":           ".",
		"a/../b":      "b",
		"a/./b//c":    "a/b/c",
		"a/b/../../c": "c",
	}
	for in, want := range ok {
		got, err := cleanEntryName(in)
		if err != nil || got != want {
			t.Errorf("cleanEntryName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/etc/passwd", "/", "..", "../x", "a/../../x", "./../x", "a/b/../../../x", "a\x00b"} {
		if _, err := cleanEntryName(in); !errors.Is(err, ErrUnsafeLayer) {
			t.Errorf("cleanEntryName(%q) error = %v, want ErrUnsafeLayer", in, err)
		}
	}
}

func TestClassifyWhiteout(t *testing.T) {
	tests := []struct {
		in     string
		kind   whiteoutKind
		target string
	}{
		{"etc/passwd", notWhiteout, ""},
		{"etc/.wh.passwd", whiteoutFile, "etc/passwd"},
		{".wh.top", whiteoutFile, "top"},
		{"dir/.wh..wh..opq", whiteoutOpaqueDir, ""},
		{".wh..wh..opq", whiteoutOpaqueDir, ""},
		{"dir/.wh..wh.plnk", whiteoutMeta, ""},
		{"dir/.wh.", whiteoutMeta, ""},
		{"dir/x.wh.y", notWhiteout, ""},
	}
	for _, tt := range tests {
		kind, target := classifyWhiteout(tt.in)
		if kind != tt.kind || target != tt.target {
			t.Errorf("classifyWhiteout(%q) = %v, %q; want %v, %q", tt.in, kind, target, tt.kind, tt.target)
		}
	}
}

func TestSplitParent(t *testing.T) {
	for in, want := range map[string][2]string{"a": {".", "a"}, "a/b": {"a", "b"}, "a/b/c": {"a/b", "c"}} {
		d, b := splitParent(in)
		if d != want[0] || b != want[1] {
			t.Errorf("splitParent(%q) = %q, %q; want %q", in, d, b, want)
		}
	}
}
