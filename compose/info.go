package compose

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
)

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

// hostInfo is what `berth info` reports.
type hostInfo struct {
	Version       string
	Root          string
	RunRoot       string
	Cgroups       string // "v1", "v2" or "hybrid"
	NFTablesTable string
	engine.HostView
}

func newInfoCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Display system-wide information, including the kernel settings berth changed",
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				h, err := e.Host(cmd.Context())
				if err != nil {
					return err
				}
				in := hostInfo{Version: Version, Root: e.Root, RunRoot: e.RunRoot, Cgroups: cgroupMode(), NFTablesTable: "ip " + h.Table, HostView: h}
				if format == "json" {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(in)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "Version: %s\nRoot: %s\nRun root: %s\nCgroups: %s\nCgroup parent: %s\nNftables table: %s\n", in.Version, in.Root, in.RunRoot, in.Cgroups, in.CgroupParent, in.NFTablesTable)
				fmt.Fprintf(w, "Containers: %d\nNetworks: %d\nVolumes: %d\nImages: %d\n", in.Containers, in.Networks, in.Volumes, in.Images)
				fmt.Fprintln(w, "Kernel settings changed by berth:")
				if len(in.SysctlsChanged) == 0 {
					fmt.Fprintln(w, "  none")
				}
				for _, c := range in.SysctlsChanged {
					fmt.Fprintf(w, "  %s: %s -> %s\n", c.Key, c.Old, c.New)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", `output format: "text" or "json"`)
	return cmd
}

// cgroupMode tells which cgroup hierarchies the host mounts.
func cgroupMode() string {
	_, v2err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	_, hybrid := os.Stat("/sys/fs/cgroup/unified")
	switch {
	case v2err == nil:
		return "v2"
	case hybrid == nil:
		return "hybrid (v1 with v2 at /sys/fs/cgroup/unified)"
	}
	return "v1"
}
