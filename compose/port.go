package compose

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newPortCommand(g *globals) *cobra.Command {
	var protocol string
	var index int
	cmd := &cobra.Command{
		Use:   "port [OPTIONS] SERVICE PRIVATE_PORT",
		Short: "Print the public port for a port binding",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.view(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			target, err := strconv.Atoi(strings.TrimSuffix(args[1], "/"+protocol))
			if err != nil {
				return fmt.Errorf("private port %q is not a number", args[1])
			}
			name, err := s.engine.ServiceContainer(cmd.Context(), s.project.Name, args[0], index)
			if err != nil {
				return err
			}
			recs, err := s.engine.Containers(cmd.Context(), s.project.Name, []string{args[0]}, true)
			if err != nil {
				return err
			}
			for _, r := range recs {
				for _, p := range r.Ports {
					if r.Name == name && p.ContainerPort == target && p.Protocol == protocol {
						_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s:%d\n", first(p.HostIP, "0.0.0.0"), p.HostPort)
						return err
					}
				}
			}
			return fmt.Errorf("no port %d/%s published for %s", target, protocol, name)
		},
	}
	cmd.Flags().StringVar(&protocol, "protocol", "tcp", "tcp or udp")
	cmd.Flags().IntVar(&index, "index", 1, "index of the container if the service has several replicas")
	return cmd
}
