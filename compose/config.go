package compose

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/spec"
)

func newConfigCommand(g *globals) *cobra.Command {
	var format, hash string
	var services, volumes bool
	cmd := &cobra.Command{
		Use:   "config [OPTIONS]",
		Short: "Parse, resolve and render the compose file in canonical format",
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := g.loadProject(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case services:
				for _, s := range p.Services {
					fmt.Fprintln(out, s.Name)
				}
				return nil
			case volumes:
				var keys []string
				for k := range p.Volumes {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintln(out, k)
				}
				return nil
			case hash != "":
				return printHashes(cmd, p, hash)
			}
			b, err := p.Render(format)
			if err != nil {
				return err
			}
			_, err = out.Write(b)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "yaml", `output format: "yaml" or "json"`)
	f.BoolVar(&services, "services", false, "print the service names, one per line")
	f.BoolVar(&volumes, "volumes", false, "print the volume names, one per line")
	f.StringVar(&hash, "hash", "", `print the config hash of the given services ("*" for all)`)
	return cmd
}

func printHashes(cmd *cobra.Command, p *spec.Project, which string) error {
	for _, s := range p.Services {
		if which == "*" || contains(splitComma(which), s.Name) {
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", s.Name, spec.ConfigHash(s))
		}
	}
	return nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
