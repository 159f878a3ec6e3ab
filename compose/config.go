package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/spec"
)

type configOptions struct {
	format, hash, output                                    string
	services, volumes, networks, profiles, images, quiet    bool
	noInterpolate, noNormalize, resolveDigests, environment bool
	variables                                               bool
}

func newConfigCommand(g *globals) *cobra.Command {
	var o configOptions
	cmd := &cobra.Command{
		Use:   "config [OPTIONS]",
		Short: "Parse, resolve and render the compose file in canonical format",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if o.quiet { // validate only, as Compose: stdout goes nowhere
				out = io.Discard
			}
			return g.runConfig(cmd.Context(), out, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "Format the output. Values: [yaml | json]")
	f.BoolVar(&o.resolveDigests, "resolve-image-digests", false, "Pin image tags to digests (of the local images)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "Only validate the configuration, don't print anything")
	f.BoolVar(&o.noInterpolate, "no-interpolate", false, "Don't interpolate environment variables")
	f.BoolVar(&o.noNormalize, "no-normalize", false, "Don't normalize compose model")
	f.BoolVar(&o.services, "services", false, "Print the service names, one per line.")
	f.BoolVar(&o.volumes, "volumes", false, "Print the volume names, one per line.")
	f.BoolVar(&o.networks, "networks", false, "Print the network names, one per line.")
	f.BoolVar(&o.profiles, "profiles", false, "Print the profile names, one per line.")
	f.BoolVar(&o.images, "images", false, "Print the image names, one per line.")
	f.StringVar(&o.hash, "hash", "", `Print the service config hash, one per line ("*" for all, else names joined by commas).`)
	f.BoolVar(&o.variables, "variables", false, "Print model variables and default values.")
	f.BoolVar(&o.environment, "environment", false, "Print environment used for interpolation.")
	f.StringVarP(&o.output, "output", "o", "", "Save to file (default to stdout)")
	return cmd
}

// runConfig does what one config invocation asks, in Docker Compose's
// order of precedence among its listing flags.
func (g *globals) runConfig(ctx context.Context, out io.Writer, o configOptions) error {
	if o.variables {
		vars, err := spec.Variables(ctx, g.loadOptions())
		if err != nil {
			return err
		}
		return printVariables(out, vars, o.format)
	}
	if currentCompatibility {
		o.noNormalize = true // Docker Compose's
	}
	if (o.noInterpolate || o.noNormalize) && !o.listing() {
		m := spec.ModelOptions{Interpolate: !o.noInterpolate, Normalize: !o.noNormalize, Format: o.format}
		if o.resolveDigests {
			resolve, done, err := g.localDigests()
			if err != nil {
				return err
			}
			defer done()
			m.Resolve = resolve
		}
		b, err := spec.RenderModel(ctx, g.loadOptions(), m)
		if err != nil {
			return err
		}
		if !o.noInterpolate {
			b = bytes.ReplaceAll(b, []byte("$"), []byte("$$"))
		}
		return writeConfig(out, o.output, b)
	}
	p, err := g.loadProject(ctx)
	if err != nil {
		return err
	}
	switch {
	case o.services:
		for _, s := range p.Services {
			fmt.Fprintln(out, s.Name)
		}
		return nil
	case o.volumes:
		return printLines(out, slices.Sorted(maps.Keys(p.Volumes)))
	case o.networks:
		return printLines(out, slices.Sorted(maps.Keys(p.Networks)))
	case o.hash != "":
		return printHashes(out, p, o.hash)
	case o.profiles:
		return printLines(out, p.AllProfiles())
	case o.images:
		for _, s := range p.Services {
			fmt.Fprintln(out, first(s.Image, p.Name+"-"+s.Name))
		}
		return nil
	case o.environment:
		return printLines(out, p.Environment())
	}
	if o.resolveDigests {
		resolve, done, err := g.localDigests()
		if err != nil {
			return err
		}
		defer done()
		if err := p.ResolveImages(resolve); err != nil {
			return err
		}
	}
	b, err := p.Render(first(o.format, "yaml"))
	if err != nil {
		return err
	}
	return writeConfig(out, o.output, bytes.ReplaceAll(b, []byte("$"), []byte("$$")))
}

// listing says whether a flag asks for a list rather than the model.
func (o configOptions) listing() bool {
	return o.services || o.volumes || o.networks || o.hash != "" || o.profiles || o.images || o.environment
}

// writeConfig writes the rendered model to file, when one is named, else out.
func writeConfig(out io.Writer, file string, b []byte) error {
	if file != "" && len(b) > 0 {
		if err := os.WriteFile(file, b, 0o666); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		return nil
	}
	_, err := out.Write(b)
	return err
}

// localDigests resolves an image to the digest its registry knows it by,
// from the local image store: where Docker Compose asks the registry,
// berth answers from the images it pulled, and says so for others.
func (g *globals) localDigests() (spec.DigestResolver, func(), error) {
	e, err := g.openEngine()
	if err != nil {
		return nil, nil, err
	}
	resolve := func(ref string) (string, error) {
		img, err := e.Images.Get(ref)
		if errors.Is(err, image.ErrNotFound) {
			return "", fmt.Errorf("--resolve-image-digests: image %s is not present locally; pull it first (berth resolves digests from local images only)", ref)
		}
		if err != nil {
			return "", fmt.Errorf("--resolve-image-digests: %s: %w", ref, err)
		}
		_, digest, ok := strings.Cut(img.RepoDigest, "@")
		if !ok {
			return "", fmt.Errorf("--resolve-image-digests: image %s has no registry digest (it was not pulled from or pushed to a registry)", ref)
		}
		return digest, nil
	}
	return resolve, func() { e.Close() }, nil
}

func printLines(out io.Writer, lines []string) error {
	for _, l := range lines {
		if _, err := fmt.Fprintln(out, l); err != nil {
			return err
		}
	}
	return nil
}

// printHashes prints "<service> <hash>" for the named services ("*": all),
// sorted by name, as Docker Compose's config --hash.
func printHashes(out io.Writer, p *spec.Project, which string) error {
	var names []string
	if which == "*" {
		for _, s := range p.Services {
			names = append(names, s.Name)
		}
	} else {
		names = strings.Split(which, ",")
	}
	slices.Sort(names)
	for _, name := range names {
		s, ok := p.Service(name)
		if !ok {
			return fmt.Errorf("--hash: no such service: %s", name)
		}
		fmt.Fprintf(out, "%s %s\n", name, spec.ConfigHash(*s))
	}
	return nil
}

// printVariables prints the files' variables as config --variables: a
// table by default, else yaml or json of the map by name.
func printVariables(out io.Writer, vars map[string]spec.Variable, format string) error {
	switch format {
	case "yaml":
		b, err := yaml.Marshal(vars)
		if err != nil {
			return err
		}
		_, err = out.Write(b)
		return err
	case "json":
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "    ")
		if err := enc.Encode(vars); err != nil {
			return err
		}
		_, err := fmt.Fprintln(out, b.String())
		return err
	case "", "table":
		tw := tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
		fmt.Fprintln(tw, "NAME\tREQUIRED\tDEFAULT VALUE\tALTERNATE VALUE")
		for _, name := range slices.Sorted(maps.Keys(vars)) {
			v := vars[name]
			fmt.Fprintf(tw, "%s\t%t\t%s\t%s\n", name, v.Required, v.DefaultValue, v.PresenceValue)
		}
		return tw.Flush()
	default:
		return fmt.Errorf("--format: %q is not yaml or json", format)
	}
}
