package compose

import (
	"context"
	"os"
)

// projectNameOnly is the name of the project the flags or the environment
// name (-p, COMPOSE_PROJECT_NAME), else of the project loaded from the
// stack files: commands that need only the name (exec) skip the load when
// they can, as Docker Compose does.
func (g *globals) projectNameOnly(ctx context.Context) (string, error) {
	if g.projectName != "" {
		return g.projectName, nil
	}
	if name := os.Getenv("COMPOSE_PROJECT_NAME"); name != "" {
		return name, nil
	}
	p, err := g.loadProject(ctx)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}
