package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/spec"
)

func newInspectCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] SERVICE|CONTAINER...",
		Short: "Display detailed information on containers, as docker inspect does",
		Long: "Display detailed information on containers, as docker inspect does. Each argument is a service of the\n" +
			"project (its containers), a container name, or a container ID or a prefix of one that no other ID has.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tmpl *template.Template
			if format != "" && format != "json" {
				var err error
				if tmpl, err = template.New("format").Funcs(funcs).Parse(format); err != nil {
					return fmt.Errorf("--format: template parsing error: %w", err)
				}
			}
			ctx := cmd.Context()
			project, err := g.optionalProject(ctx)
			if err != nil {
				return err
			}
			return g.withEngine(func(e *engine.Engine) error {
				all, err := e.Containers(ctx, "", nil, false)
				if err != nil {
					return err
				}
				in, err := e.Inspector(ctx)
				if err != nil {
					return err
				}
				var found []containerJSON
				var errs []error
				for _, arg := range args {
					names, err := resolveContainers(arg, project, all)
					if err != nil {
						errs = append(errs, err)
						continue
					}
					for _, name := range names {
						d, err := in.Inspect(ctx, name)
						if err != nil {
							errs = append(errs, err)
							continue
						}
						found = append(found, dockerInspect(d))
					}
				}
				if err := writeInspect(cmd.OutOrStdout(), format, tmpl, found); err != nil {
					return err
				}
				return errors.Join(errs...)
			})
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", `format the output: "json", or a Go template ('{{.State.Status}}')`)
	return cmd
}

// optionalProject is the project's name when a compose file is found, ""
// when there is none (inspect then knows containers, not services).
func (g *globals) optionalProject(ctx context.Context) (string, error) {
	p, err := g.loadProject(ctx)
	if errors.Is(err, spec.ErrNoComposeFile) {
		return g.projectName, nil
	}
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

// resolveContainers finds what arg names, as Docker resolves a container
// reference with berth's services first: the containers of the project's
// service arg, else the container named arg, else the one whose ID is
// arg, else the one whose ID begins with arg (only one may).
func resolveContainers(arg, project string, all []engine.ContainerView) ([]string, error) {
	var names []string
	for _, c := range all {
		if project != "" && c.Project == project && c.Service == arg {
			names = append(names, c.Name)
		}
	}
	if len(names) > 0 {
		return names, nil
	}
	for _, c := range all {
		if c.Name == arg || c.ID == arg {
			return []string{c.Name}, nil
		}
	}
	for _, c := range all {
		if arg != "" && strings.HasPrefix(c.ID, arg) {
			names = append(names, c.Name)
		}
	}
	switch len(names) {
	case 0:
		return nil, fmt.Errorf("No such object: %s", arg)
	case 1:
		return names, nil
	}
	return nil, fmt.Errorf("multiple IDs found with provided prefix: %s", arg)
}

// writeInspect writes the containers found as docker inspect does: an
// indented JSON array (compact with "json"), or the template once each.
func writeInspect(w io.Writer, format string, tmpl *template.Template, found []containerJSON) error {
	if tmpl != nil {
		var b bytes.Buffer
		for _, c := range found {
			if err := tmpl.Execute(&b, c); err != nil {
				return fmt.Errorf("--format: template parsing error: %w", err)
			}
			b.WriteByte('\n')
		}
		if b.Len() == 0 {
			b.WriteByte('\n')
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	if found == nil {
		found = []containerJSON{}
	}
	var out []byte
	var err error
	if format == "json" {
		out, err = json.Marshal(found)
	} else {
		out, err = json.MarshalIndent(found, "", "    ")
	}
	if err != nil {
		return err
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// nameOfProject is the project's name, for commands that need no more of
// it than its name (stats): from the compose file, else -p.
func (g *globals) nameOfProject(ctx context.Context) (string, error) {
	name, err := g.optionalProject(ctx)
	if err == nil && name == "" {
		_, err = g.loadProject(ctx) // no file and no -p: the loader's error says what is missing
	}
	return name, err
}
