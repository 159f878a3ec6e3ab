package spec

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/tree"
)

// splitMatches is upstream compose-go's tree.Path.Matches, which splits
// both paths: berth's copy (third_party/compose-go) walks them instead
// and must answer the same.
func splitMatches(path, pattern string) bool {
	parts, patternParts := strings.Split(path, "."), strings.Split(pattern, ".")
	if len(parts) != len(patternParts) {
		return false
	}
	for i, part := range parts {
		if patternParts[i] != tree.PathMatchAll && patternParts[i] != part {
			return false
		}
	}
	return true
}

// Every pair of paths made of a few parts (empty ones, "*", "[]" and
// names, with separators at either end) matches in berth's copy exactly
// when it does upstream.
func TestPathMatchesAsUpstream(t *testing.T) {
	parts := []string{"", "*", "[]", "services", "web", "ports"}
	var paths []string
	var build func(prefix string, depth int)
	build = func(prefix string, depth int) {
		paths = append(paths, prefix)
		if depth == 3 {
			return
		}
		for _, p := range parts {
			if depth == 0 {
				build(p, 1)
			} else {
				build(prefix+"."+p, depth+1)
			}
		}
	}
	build("", 0)
	for _, path := range paths {
		for _, pattern := range paths {
			if got, want := tree.Path(path).Matches(tree.Path(pattern)), splitMatches(path, pattern); got != want {
				t.Errorf("Path(%q).Matches(%q) = %v, upstream %v", path, pattern, got, want)
			}
		}
	}
}
