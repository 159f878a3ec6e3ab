package compose

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
)

func newPullCommand(g *globals) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] [SERVICE...]",
		Short: "Pull service images",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var out *progress
			if quiet {
				out = newProgress(io.Discard)
			} else {
				out = newProgress(cmd.OutOrStdout())
			}
			s, err := g.open(ctx, engine.WithPullProgress(out.pull))
			if err != nil {
				return err
			}
			defer s.close()
			var plan reconcile.Plan
			seen := map[string]bool{}
			for _, svc := range s.project.Services {
				if (len(args) > 0 && !contains(args, svc.Name)) || seen[svc.Image] {
					continue
				}
				seen[svc.Image] = true
				plan.Actions = append(plan.Actions, reconcile.Action{ID: "pull:" + svc.Image, Kind: reconcile.Pull, Target: svc.Image, Reason: "berth pull"})
			}
			return reconcile.Apply(ctx, plan, drivers(s.engine), 0, out.event)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "pull without printing progress information")
	return cmd
}

func newImageCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage images"}
	var changes []string
	importCmd := &cobra.Command{
		Use:   "import [OPTIONS] FILE|- REPOSITORY[:TAG]",
		Short: "Import the contents from a root filesystem tarball to create an image",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.openEngine()
			if err != nil {
				return err
			}
			defer e.Close()
			var r io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			img, err := e.Images.Import(cmd.Context(), r, args[1], changes)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), img.ID)
			return err
		},
	}
	importCmd.Flags().StringArrayVarP(&changes, "change", "c", nil, "apply a Dockerfile instruction to the created image")
	ls := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List images",
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := g.openEngine()
			if err != nil {
				return err
			}
			defer e.Close()
			imgs, err := e.Images.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 3, ' ', 0)
			fmt.Fprintln(tw, "REFERENCE\tIMAGE ID")
			for _, img := range imgs {
				fmt.Fprintf(tw, "%s\t%s\n", img.Ref, img.ID[7:19])
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(importCmd, ls)
	return cmd
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the berth version information",
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "berth version %s\n", Version)
			return err
		},
	}
}
