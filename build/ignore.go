package build

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// ignoreFile finds the context's ignore file as BuildKit does:
// <Dockerfile>.dockerignore beside the Dockerfile first, then
// .dockerignore at the context's top. It returns "" when there is none.
func ignoreFile(contextDir, dockerfilePath string) string {
	var candidates []string
	if dockerfilePath != "" {
		candidates = append(candidates, dockerfilePath+".dockerignore")
	}
	candidates = append(candidates, filepath.Join(contextDir, ".dockerignore"))
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	return ""
}

// loadIgnore reads the ignore file at name ("" for none) into a matcher;
// nil means nothing is ignored.
func loadIgnore(name string) (*patternmatcher.PatternMatcher, error) {
	if name == "" {
		return nil, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return parseIgnore(name, data)
}

// parseIgnore parses the content of an ignore file.
func parseIgnore(name string, data []byte) (*patternmatcher.PatternMatcher, error) {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	return pm, nil
}

// ignoreMatcher says which context paths are left out.
type ignoreMatcher struct {
	pm *patternmatcher.PatternMatcher
}

// ignored reports whether the context path rel ("a/b", no leading slash)
// is left out, and for a directory whether its content may still hold
// re-included ("!") paths, so that a walk must descend.
func (m ignoreMatcher) ignored(rel string, isDir bool) (ignored, descend bool, err error) {
	if m.pm == nil || rel == "." || rel == "" {
		return false, true, nil
	}
	ok, err := m.pm.MatchesOrParentMatches(rel)
	if err != nil {
		return false, false, errors.Join(fmt.Errorf("matching %s against .dockerignore", rel), err)
	}
	if !ok {
		return false, true, nil
	}
	return true, isDir && m.pm.Exclusions(), nil
}
