package compose

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/cobra"
)

// dockerHubAuthKey is the key Docker uses for Docker Hub in config.json.
const dockerHubAuthKey = "https://index.docker.io/v1/"

func newLoginCommand() *cobra.Command {
	var user, password string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Log in to a registry (credentials go to the Docker config file, as with docker login)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := name.DefaultRegistry
			if len(args) == 1 {
				server = args[0]
			}
			if passwordStdin {
				if password != "" {
					return errors.New("--password and --password-stdin are mutually exclusive")
				}
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("reading the password from stdin: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
			}
			if user == "" || password == "" {
				return errors.New("give --username and --password or --password-stdin")
			}
			reg, err := registryOf(server)
			if err != nil {
				return err
			}
			if err := checkLogin(cmd.Context(), reg, user, password); err != nil {
				return fmt.Errorf("login to %s: %w", server, err)
			}
			cf, err := dockerconfig.Load(dockerconfig.Dir())
			if err != nil {
				return err
			}
			key := authKey(reg)
			if err := cf.GetCredentialsStore(key).Store(types.AuthConfig{ServerAddress: key, Username: user, Password: password}); err != nil {
				return fmt.Errorf("storing credentials: %w", err)
			}
			if err := cf.Save(); err != nil {
				return fmt.Errorf("saving %s: %w", cf.Filename, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Login Succeeded")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "", "username")
	f.StringVarP(&password, "password", "p", "", "password (prefer --password-stdin)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "take the password from stdin")
	return cmd
}

func newLogoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := name.DefaultRegistry
			if len(args) == 1 {
				server = args[0]
			}
			reg, err := registryOf(server)
			if err != nil {
				return err
			}
			cf, err := dockerconfig.Load(dockerconfig.Dir())
			if err != nil {
				return err
			}
			key := authKey(reg)
			if err := cf.GetCredentialsStore(key).Erase(key); err != nil {
				return fmt.Errorf("removing credentials: %w", err)
			}
			if err := cf.Save(); err != nil {
				return fmt.Errorf("saving %s: %w", cf.Filename, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removing login credentials for %s\n", key)
			return nil
		},
	}
}

// registryOf parses a registry host as `docker login` takes it.
func registryOf(server string) (name.Registry, error) {
	server = strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	server = strings.TrimSuffix(strings.TrimSuffix(server, "/v1/"), "/")
	reg, err := name.NewRegistry(server)
	if err != nil {
		return reg, fmt.Errorf("registry %q: %w", server, err)
	}
	if isLoopbackRegistry(reg.RegistryStr()) {
		reg, err = name.NewRegistry(server, name.Insecure)
	}
	return reg, err
}

// authKey is the config.json key of a registry's credentials.
func authKey(reg name.Registry) string {
	if reg.RegistryStr() == name.DefaultRegistry {
		return dockerHubAuthKey
	}
	return reg.RegistryStr()
}

// checkLogin asks the registry whether the credentials are good.
func checkLogin(ctx context.Context, reg name.Registry, user, password string) error {
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	rt, err := transport.NewWithContext(ctx, reg, auth, http.DefaultTransport, []string{reg.Scope(transport.PullScope)})
	if err != nil {
		return err
	}
	// A registry with basic auth only says whether the password is right
	// when asked something with it.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the registry answered %s", resp.Status)
	}
	return nil
}

// isLoopbackRegistry reports whether host names this machine, where Docker
// allows plain HTTP without configuration.
func isLoopbackRegistry(host string) bool {
	h := host
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	h = strings.Trim(h, "[]")
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}
