package compose

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
)

func newNetworkCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "network", Short: "Manage networks"}
	cmd.AddCommand(newNetworkLs(g), newNetworkInspect(g), newNetworkCreate(g), newNetworkRm(g), newNetworkPrune(g))
	return cmd
}

// networkID is a Docker-shaped ID for a network: 64 hex digits of its name.
func networkID(name string) string {
	h := sha256.Sum256([]byte("network\x00" + name))
	return hex.EncodeToString(h[:])
}

// withEngine opens the host's state for a command that needs no project.
func (g *globals) withEngine(fn func(*engine.Engine) error) error {
	e, err := g.openEngine()
	if err != nil {
		return err
	}
	defer e.Close()
	return fn(e)
}

func newNetworkLs(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List networks",
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				nets, err := e.Networks(cmd.Context())
				if err != nil {
					return err
				}
				rows := make([]networkRow, 0, len(nets))
				for _, n := range nets {
					rows = append(rows, networkRow{ID: networkID(n.Name)[:12], Name: n.Name, Driver: "bridge", Scope: "local",
						Internal: n.Internal, Subnet: n.Subnet, Project: n.Project, Labels: n.Labels})
				}
				return networkRows.render(cmd.OutOrStdout(), format, rows)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", formatUsage)
	return cmd
}

// networkRow is one row of `network ls`, with Docker's JSON keys.
type networkRow struct {
	ID, Name, Driver, Scope string
	Internal                bool
	Subnet, Project         string
	Labels                  map[string]string
}

var networkRows = listing{
	table: `{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}\t{{.Subnet}}`,
	headers: map[string]string{"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Internal": "INTERNAL",
		"Subnet": "SUBNET", "Project": "PROJECT", "Labels": "LABELS"},
}

// networkInspect is `docker network inspect`'s shape.
type networkInspect struct {
	Name       string
	Id         string
	Scope      string
	Driver     string
	EnableIPv6 bool
	IPAM       struct {
		Driver string
		Config []map[string]string
	}
	Internal   bool
	Containers map[string]map[string]string
	Options    map[string]string
	Labels     map[string]string
}

func newNetworkInspect(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NETWORK...",
		Short: "Display detailed information on one or more networks",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				ctx := cmd.Context()
				var out []networkInspect
				for _, name := range args {
					n, err := e.Network(ctx, name)
					if err != nil {
						return err
					}
					ni := networkInspect{Name: n.Name, Id: networkID(n.Name), Scope: "local", Driver: "bridge", Internal: n.Internal,
						Containers: map[string]map[string]string{}, Labels: n.Labels,
						Options: map[string]string{"com.docker.network.bridge.name": n.Bridge}}
					ni.IPAM.Driver = "default"
					pool := map[string]string{"Subnet": n.Subnet, "Gateway": n.Gateway}
					if n.IPRange != "" {
						pool["IPRange"] = n.IPRange
					}
					ni.IPAM.Config = []map[string]string{pool}
					if n.MTU > 0 {
						ni.Options["com.docker.network.driver.mtu"] = fmt.Sprint(n.MTU)
					}
					for _, ep := range n.Endpoints {
						ni.Containers[ep.Container] = map[string]string{"Name": ep.Container, "IPv4Address": ep.Address}
					}
					out = append(out, ni)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "    ")
				return enc.Encode(out)
			})
		},
	}
}

func newNetworkCreate(g *globals) *cobra.Command {
	var subnet, gateway, ipRange string
	var internal bool
	var labels, opts []string
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network, for stacks to use as external",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := spec.Network{Name: args[0], Driver: "bridge", Internal: internal, Labels: keyValues(labels), DriverOpts: keyValues(opts)}
			var err error
			if n.MTU, err = spec.ParseMTU(n.DriverOpts); err != nil {
				return fmt.Errorf("--opt: %w", err)
			}
			if subnet != "" {
				pool, err := spec.ParsePool(subnet, gateway, ipRange)
				if err != nil {
					return fmt.Errorf("--subnet, --gateway, --ip-range: %w", err)
				}
				n.IPAM = []spec.IPAMPool{pool}
			} else if gateway != "" || ipRange != "" {
				return errors.New("--gateway and --ip-range need --subnet")
			}
			return g.changeHost(cmd, func(_ *engine.Engine, inv reconcile.Inventory) (reconcile.Plan, error) {
				return reconcile.PlanCreateNetwork(inv, n)
			},
				func(ev reconcile.Event) { fmt.Fprintln(cmd.OutOrStdout(), networkID(ev.Action.Target)) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&subnet, "subnet", "", "subnet in CIDR format")
	f.StringVar(&gateway, "gateway", "", "gateway for the subnet")
	f.StringVar(&ipRange, "ip-range", "", "allocate container addresses from a sub-range")
	f.BoolVar(&internal, "internal", false, "restrict external access to the network")
	f.StringArrayVar(&labels, "label", nil, "set metadata on a network")
	f.StringArrayVarP(&opts, "opt", "o", nil, "set driver specific options")
	return cmd
}

func keyValues(kvs []string) map[string]string {
	if len(kvs) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func newNetworkRm(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NETWORK...",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.changeHost(cmd, func(_ *engine.Engine, inv reconcile.Inventory) (reconcile.Plan, error) {
				return reconcile.PlanRemoveNetworks(inv, args)
			}, printTarget(cmd))
		},
	}
}

func newNetworkPrune(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all networks no container uses",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !confirm(cmd, "WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] ") {
				return nil
			}
			return g.prune(cmd, "Deleted Networks:", func(inv reconcile.Inventory) reconcile.Plan { return reconcile.PlanPruneNetworks(inv) })
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	return cmd
}

// changeHost plans with decide over what berth has made on the host, of
// any project, and applies the plan; done hears of each action carried
// out. A problem decide reports beside its plan, and an object the host
// kept because something uses it, fail the command once the rest is done.
func (g *globals) changeHost(cmd *cobra.Command, decide func(*engine.Engine, reconcile.Inventory) (reconcile.Plan, error), done func(reconcile.Event)) error {
	e, err := g.openEngine()
	if err != nil {
		return err
	}
	defer e.Close()
	inv, err := e.Inventory(cmd.Context())
	if err != nil {
		return err
	}
	plan, planErr := decide(e, inv)
	var kept []error
	err = reconcile.Apply(cmd.Context(), plan, drivers(e), 0, func(ev reconcile.Event) {
		switch ev.Status {
		case reconcile.Done:
			done(ev)
		case reconcile.Kept:
			kept = append(kept, ev.Err)
		}
	})
	return errors.Join(append([]error{planErr, err}, kept...)...)
}

// prune removes what decide picks, then lists what went under title, as
// Docker does.
func (g *globals) prune(cmd *cobra.Command, title string, decide func(reconcile.Inventory) reconcile.Plan) error {
	var removed []string
	err := g.changeHost(cmd, func(_ *engine.Engine, inv reconcile.Inventory) (reconcile.Plan, error) { return decide(inv), nil },
		func(ev reconcile.Event) { removed = append(removed, ev.Action.Target) })
	if len(removed) > 0 {
		sort.Strings(removed)
		fmt.Fprintln(cmd.OutOrStdout(), title+"\n"+strings.Join(removed, "\n"))
	}
	return err
}

// printTarget prints the object an action made or removed, as Docker's
// create and rm commands do.
func printTarget(cmd *cobra.Command) func(reconcile.Event) {
	return func(ev reconcile.Event) { fmt.Fprintln(cmd.OutOrStdout(), ev.Action.Target) }
}

// confirm asks a yes/no question on stdin.
func confirm(cmd *cobra.Command, question string) bool {
	fmt.Fprint(cmd.OutOrStdout(), question)
	line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}
