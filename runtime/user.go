package runtime

import (
	"fmt"
	"io"
	"strings"

	"github.com/moby/sys/user"
)

// Identity is the resolved user of a container process.
type Identity struct {
	UID, GID       int
	AdditionalGIDs []int
	Home           string
}

// ResolveUser resolves a Docker user string ("", "name", "uid", "uid:gid",
// "name:group", ...) against the container's passwd and group files;
// either reader may be nil when the file is absent. The default is root
// with home "/", as in Docker.
func ResolveUser(spec string, passwd, group io.Reader) (Identity, error) {
	eu, err := user.GetExecUser(spec, &user.ExecUser{Home: "/"}, passwd, group)
	if err != nil {
		return Identity{}, fmt.Errorf("resolving user %q: %w", spec, err)
	}
	return Identity{UID: eu.Uid, GID: eu.Gid, AdditionalGIDs: eu.Sgids, Home: eu.Home}, nil
}

// defaultPath is the PATH Docker gives a container whose image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// processEnv completes env as Docker does: PATH and HOSTNAME when missing,
// and HOME from the resolved user when missing.
func processEnv(env []string, hostname, home string) []string {
	out := make([]string, 0, len(env)+3)
	has := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		has[k] = true
	}
	if !has["PATH"] {
		out = append(out, defaultPath)
	}
	if !has["HOSTNAME"] && hostname != "" {
		out = append(out, "HOSTNAME="+hostname)
	}
	out = append(out, env...)
	if !has["HOME"] {
		out = append(out, "HOME="+home)
	}
	return out
}
