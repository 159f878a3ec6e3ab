package compose

import (
	"context"
	"os"

	"github.com/berth-dev/berth/spec"
)

// projectNameOnly is the name of the project the flags or the environment
// name (-p, COMPOSE_PROJECT_NAME), else the one the stack files give
// (read, not validated): commands that need only the name (exec) spare
// the full load, about 25 ms of a fresh process.
func (g *globals) projectNameOnly(ctx context.Context) (string, error) {
	if g.projectName != "" {
		return g.projectName, nil
	}
	if name := os.Getenv("COMPOSE_PROJECT_NAME"); name != "" {
		return name, nil
	}
	return spec.ProjectName(ctx, g.loadOptions())
}
