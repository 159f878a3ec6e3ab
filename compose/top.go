package compose

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
)

func newTopCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "top [SERVICES...]",
		Short: "Display the running processes",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := g.view(ctx)
			if err != nil {
				return err
			}
			defer s.close()
			for _, name := range args {
				if _, ok := s.project.Service(name); !ok {
					return fmt.Errorf("no such service: %q", name)
				}
			}
			views, err := s.engine.Top(ctx, s.project.Name, args)
			if err != nil {
				return err
			}
			return printTop(cmd.OutOrStdout(), views)
		},
	}
}

// printTop prints every container's processes in one table, as Docker
// Compose does: the service and replica number, then ps's columns.
func printTop(out io.Writer, views []engine.TopView) error {
	w := tabwriter.NewWriter(out, 4, 1, 2, ' ', 0)
	header := false
	for _, v := range views {
		for _, proc := range v.Processes {
			if !header {
				fmt.Fprintln(w, strings.Join(append([]string{"SERVICE", "#"}, v.Titles...), "\t"))
				header = true
			}
			fmt.Fprintln(w, strings.Join(append([]string{v.Service, strconv.Itoa(v.Number)}, proc...), "\t"))
		}
	}
	return w.Flush()
}
