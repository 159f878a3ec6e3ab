package build

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	name     string // as shown in errors: the path, or "Dockerfile" for inline content
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand // ARGs before the first FROM
	escape   rune
	source   []byte
}

// parseDockerfile parses src with BuildKit's parser and instruction
// packages; errors name the file and the line.
func parseDockerfile(name string, src []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, located(name, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, located(name, err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrNoStages)
	}
	return &dockerfile{name: name, stages: stages, metaArgs: metaArgs, escape: res.EscapeToken, source: src}, nil
}

// located prefixes err with "name:line: " when BuildKit knows the line.
func located(name string, err error) error {
	if line := lineOf(err); line > 0 {
		return fmt.Errorf("%s:%d: %w", name, line, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// lineOf is the first line BuildKit attached to err, 0 for none.
func lineOf(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return le.Locations[0][0].Start.Line
	}
	return 0
}

// readDockerfile returns the Dockerfile's display name and content: the
// inline content when given, else the file (relative to the context
// unless absolute; "Dockerfile" by default).
func readDockerfile(contextDir, dockerfilePath, inline string) (name string, src []byte, err error) {
	if inline != "" {
		return "Dockerfile", []byte(inline), nil
	}
	p := dockerfilePath
	if p == "" {
		p = "Dockerfile"
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(contextDir, p)
	}
	src, err = os.ReadFile(p)
	if err != nil {
		return "", nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	return p, src, nil
}

// parseTrigger parses one ONBUILD trigger of a base image.
func parseTrigger(trigger string) (instructions.Command, error) {
	res, err := parser.Parse(strings.NewReader(trigger))
	if err != nil {
		return nil, err
	}
	if len(res.AST.Children) != 1 {
		return nil, fmt.Errorf("ONBUILD trigger %q is not one instruction", trigger)
	}
	cmd, err := instructions.ParseCommand(res.AST.Children[0])
	if err != nil {
		return nil, err
	}
	switch cmd.(type) {
	case *instructions.OnbuildCommand:
		return nil, fmt.Errorf("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
	}
	return cmd, nil
}
