package compose

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/spec"
)

// currentCompatibility is --compatibility (or COMPOSE_COMPATIBILITY) for
// this command line: Docker Compose's backward compatibility mode.
var currentCompatibility bool

// compatibilityFlag adds --compatibility to f and returns what applies it
// once the command line is parsed: Docker Compose's only effects of it,
// names made with "_" (project_service_1) and `config` not normalising.
func compatibilityFlag(f *pflag.FlagSet) func() error {
	f.BoolVar(&currentCompatibility, "compatibility", false, `run in backward compatibility mode: names as Compose v1's, project_service_1 (COMPOSE_COMPATIBILITY)`)
	return func() error {
		if env := os.Getenv("COMPOSE_COMPATIBILITY"); env != "" && !f.Changed("compatibility") {
			on, err := strconv.ParseBool(env)
			if err != nil {
				return fmt.Errorf("COMPOSE_COMPATIBILITY=%q: not a boolean", env)
			}
			currentCompatibility = on
		}
		spec.Separator = "-"
		if currentCompatibility {
			spec.Separator = "_"
		}
		return nil
	}
}
