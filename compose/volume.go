package compose

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

func newVolumeCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "volume", Short: "Manage volumes"}
	cmd.AddCommand(newVolumeLs(g), newVolumeInspect(g), newVolumeCreate(g), newVolumeRm(g), newVolumePrune(g))
	return cmd
}

// volumeInfo is `docker volume inspect`'s shape.
type volumeInfo struct {
	CreatedAt  string
	Driver     string
	Labels     map[string]string
	Mountpoint string
	Name       string
	Options    map[string]string
	Scope      string
}

// volumeInfos describes every volume berth knows, by name.
func volumeInfos(cmd *cobra.Command, e *engine.Engine) (map[string]volumeInfo, []string, error) {
	vols, err := e.Volumes(cmd.Context())
	if err != nil {
		return nil, nil, err
	}
	infos := map[string]volumeInfo{}
	var names []string
	for _, v := range vols {
		infos[v.Name] = volumeInfo{CreatedAt: v.Created.Format(time.RFC3339), Driver: "local", Labels: v.Labels, Mountpoint: v.Mountpoint,
			Name: v.Name, Scope: "local", Options: v.Options}
		names = append(names, v.Name)
	}
	return infos, names, nil
}

func newVolumeLs(g *globals) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List volumes",
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				infos, names, err := volumeInfos(cmd, e)
				if err != nil {
					return err
				}
				if quiet {
					for _, n := range names {
						fmt.Fprintln(cmd.OutOrStdout(), n)
					}
					return nil
				}
				rows := make([]volumeRow, 0, len(names))
				for _, n := range names {
					rows = append(rows, volumeRow{Driver: "local", Name: n, Mountpoint: infos[n].Mountpoint, Labels: infos[n].Labels, Scope: "local"})
				}
				return volumeRows.render(cmd.OutOrStdout(), format, rows)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", formatUsage)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display volume names")
	return cmd
}

// volumeRow is one row of `volume ls`, with Docker's JSON keys.
type volumeRow struct {
	Driver, Name, Mountpoint string
	Labels                   map[string]string
	Scope                    string
}

var volumeRows = listing{
	table:   `{{.Driver}}\t{{.Name}}`,
	headers: map[string]string{"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Scope": "SCOPE"},
}

func newVolumeInspect(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect VOLUME...",
		Short: "Display detailed information on one or more volumes",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				infos, _, err := volumeInfos(cmd, e)
				if err != nil {
					return err
				}
				var out []volumeInfo
				for _, n := range args {
					vi, ok := infos[n]
					if !ok {
						return fmt.Errorf("no such volume: %s", n)
					}
					out = append(out, vi)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "    ")
				return enc.Encode(out)
			})
		},
	}
}

func newVolumeCreate(g *globals) *cobra.Command {
	var driver string
	var opts, labels []string
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] VOLUME",
		Short: "Create a volume, for stacks to use as external",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if driver != "local" {
				return fmt.Errorf("volume driver %q is not supported by berth: only local", driver)
			}
			v := spec.Volume{Name: args[0], Driver: "local", Labels: keyValues(labels), DriverOpts: keyValues(opts)}
			for k := range v.DriverOpts {
				if k != "type" && k != "o" && k != "device" {
					return fmt.Errorf("--opt %s: the local driver takes type, o and device", k)
				}
			}
			err := g.changeHost(cmd, func(_ *engine.Engine, inv reconcile.Inventory) (reconcile.Plan, error) {
				return reconcile.PlanCreateVolume(inv, v), nil
			},
				func(reconcile.Event) {})
			if err == nil {
				fmt.Fprintln(cmd.OutOrStdout(), v.Name) // also when it existed, as Docker prints
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&driver, "driver", "d", "local", "volume driver name")
	f.StringArrayVarP(&opts, "opt", "o", nil, "set driver specific options")
	f.StringArrayVar(&labels, "label", nil, "set metadata for a volume")
	return cmd
}

func newVolumeRm(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm VOLUME...",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes (never one in use)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.changeHost(cmd, func(_ *engine.Engine, inv reconcile.Inventory) (reconcile.Plan, error) {
				return reconcile.PlanRemoveVolumes(inv, args)
			}, printTarget(cmd))
		},
	}
}

func newVolumePrune(g *globals) *cobra.Command {
	var force, all bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused anonymous volumes (all unused ones with --all)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !confirm(cmd, "WARNING! This will remove anonymous volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ") {
				return nil
			}
			return g.prune(cmd, "Deleted Volumes:", func(inv reconcile.Inventory) reconcile.Plan { return reconcile.PlanPruneVolumes(inv, all) })
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove all unused volumes, not just anonymous ones")
	return cmd
}
