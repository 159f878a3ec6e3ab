package compose

import (
	"context"
	"os"

	"github.com/berth-dev/berth/engine"
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

// runningContainer opens the engine and finds the running container of
// service (replica index, or the first) that exec and attach act on,
// reading only the project's name. The caller closes the engine.
func (g *globals) runningContainer(ctx context.Context, service string, index int) (*engine.Engine, engine.ContainerView, error) {
	project, err := g.projectNameOnly(ctx)
	if err != nil {
		return nil, engine.ContainerView{}, err
	}
	e, err := g.openEngine()
	if err != nil {
		return nil, engine.ContainerView{}, err
	}
	target, err := e.RunningContainer(ctx, project, service, index)
	if err != nil {
		e.Close()
		return nil, engine.ContainerView{}, err
	}
	return e, target, nil
}
