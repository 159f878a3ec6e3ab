package build

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// stageIndex finds the stage a FROM or COPY --from names among the first
// n stages: by its AS name (case-insensitive) or by its index.
func stageIndex(stages []instructions.Stage, name string, n int) (int, bool) {
	for i := range min(n, len(stages)) {
		if stages[i].Name != "" && strings.EqualFold(stages[i].Name, name) {
			return i, true
		}
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < min(n, len(stages)) {
		return i, true
	}
	return 0, false
}

// targetIndex is the stage to build: the named one, or the last.
func targetIndex(stages []instructions.Stage, target string) (int, error) {
	if target == "" {
		return len(stages) - 1, nil
	}
	for i, s := range stages {
		if strings.EqualFold(s.Name, target) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("target stage %q: %w", target, ErrNoStage)
}

// stageName is how a stage is shown: its AS name or its index.
func stageName(stages []instructions.Stage, i int) string {
	if stages[i].Name != "" {
		return stages[i].Name
	}
	return strconv.Itoa(i)
}
