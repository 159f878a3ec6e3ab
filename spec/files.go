package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Where Compose puts a config or secret whose target is not absolute.
const (
	configsDir = "/"
	secretsDir = "/run/secrets/"
)

// convertFiles fills a service's volumes_from, configs and secrets.
func convertFiles(s *Service, cs types.ServiceConfig, cp *types.Project, ps *problems) {
	at := serviceAt(cs.Name)
	for _, v := range cs.VolumesFrom {
		if ref, ok := volumesFrom(v, cp, ps, at("volumes_from")); ok {
			s.VolumesFrom = append(s.VolumesFrom, ref)
		}
	}
	for _, c := range cs.Configs {
		s.Configs = append(s.Configs, fileRef(types.FileReferenceConfig(c), configsDir, ps, at("configs")))
	}
	for _, c := range cs.Secrets {
		s.Secrets = append(s.Secrets, fileRef(types.FileReferenceConfig(c), secretsDir, ps, at("secrets")))
	}
}

// volumesFrom normalises one volumes_from entry, "NAME[:ro|rw]" or
// "container:NAME[:ro|rw]", to "service:NAME[:mode]" or
// "container:NAME[:mode]"; a service must be one of the project, and
// becomes a dependency of the service for start order.
func volumesFrom(v string, cp *types.Project, ps *problems, path []string) (VolumesFrom, bool) {
	kind, rest := "service", v
	if r, ok := strings.CutPrefix(v, types.ContainerPrefix); ok {
		kind, rest = "container", r
	} else if r, ok := strings.CutPrefix(v, types.ServicePrefix); ok {
		rest = r
	}
	name, mode, hasMode := strings.Cut(rest, ":")
	if name == "" || (hasMode && mode != "ro" && mode != "rw") {
		ps.invalid("volumes_from "+strconv.Quote(v)+` must be "NAME[:ro|rw]" or "container:NAME[:ro|rw]"`, path...)
		return VolumesFrom{}, false
	}
	if kind == "service" && !checkServiceRef(cp, name, "volumes_from "+strconv.Quote(v), ps, path) {
		return VolumesFrom{}, false
	}
	return VolumesFrom{Container: kind == "container", Name: name, Mode: mode}, true
}

// fileRef converts a service's use of a config or secret, making its target
// absolute under dir as Compose does.
func fileRef(r types.FileReferenceConfig, dir string, ps *problems, at []string) FileRef {
	out := FileRef{Source: r.Source, Target: r.Target}
	switch {
	case out.Target == "":
		out.Target = dir + r.Source
	case !path.IsAbs(out.Target):
		out.Target = dir + out.Target
	}
	out.Target = path.Clean(out.Target)
	what := at[len(at)-1] + " " + strconv.Quote(r.Source)
	owner := func(key, id string) *int {
		n, err := strconv.ParseUint(id, 10, 31)
		if id == "" {
			return nil
		}
		if err != nil {
			ps.invalid(what+": "+key+" "+strconv.Quote(id)+" is not a number", at...)
			return nil
		}
		v := int(n)
		return &v
	}
	out.UID, out.GID = owner("uid", r.UID), owner("gid", r.GID)
	if r.Mode != nil {
		if *r.Mode < 0 || *r.Mode > 0o7777 {
			ps.invalid(what+": mode "+r.Mode.String()+" is not a file mode", at...)
		} else {
			mode := uint32(*r.Mode)
			out.Mode = &mode
		}
	}
	return out
}

// convertFileSources converts the top-level configs or secrets (kind is
// "configs" or "secrets"). A non-external one needs exactly one source; an
// environment source used by an enabled service needs its variable set.
func convertFileSources(kind string, in map[string]types.FileObjectConfig, used map[string]bool, env types.Mapping, ps *problems) map[string]FileSource {
	out := make(map[string]FileSource, len(in))
	for key, c := range in {
		at := []string{kind, key}
		fs := FileSource{Name: c.Name, File: c.File, Environment: c.Environment, Content: c.Content, External: bool(c.External)}
		if fs.Environment != "" {
			// compose-go put the variable's value in Content; the
			// contract is one source, and LookupEnv gives the value.
			fs.Content = ""
		}
		sources := 0
		for _, s := range []string{fs.File, fs.Environment, fs.Content} {
			if s != "" {
				sources++
			}
		}
		switch {
		case fs.External && sources > 0:
			ps.invalid("an external one cannot also set file, environment or content", at...)
		case !fs.External && sources != 1:
			ps.invalid("needs exactly one of file, environment and content", at...)
		}
		if _, set := env[c.Environment]; c.Environment != "" && used[key] && !set {
			ps.invalid("environment variable "+c.Environment+" is not set", append(at, "environment")...)
		}
		if used[key] {
			fs.Digest = ContentDigest(fs, env[c.Environment])
		}
		out[key] = fs
	}
	return out
}

// ContentDigest is the hex SHA-256 of a source's content (envValue for an
// `environment:` source), "" when it has none to read.
func ContentDigest(fs FileSource, envValue string) string {
	var content []byte
	switch {
	case fs.External:
		return ""
	case fs.File != "":
		b, err := os.ReadFile(fs.File)
		if err != nil {
			return "" // a missing file is reported by the host's check
		}
		content = b
	case fs.Environment != "":
		content = []byte(envValue)
	default:
		content = []byte(fs.Content)
	}
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// usedFiles returns the config (or secret) names enabled services use.
func usedFiles(services []Service, secrets bool) map[string]bool {
	used := map[string]bool{}
	for _, s := range services {
		refs := s.Configs
		if secrets {
			refs = s.Secrets
		}
		for _, r := range refs {
			used[r.Source] = true
		}
	}
	return used
}

// LookupEnv returns the value a variable had in the environment the
// project was loaded with (the process environment and the env files):
// the content of a config or secret whose source is `environment:`.
// It reports false for an unset variable and for projects not made by Load.
func (p *Project) LookupEnv(name string) (string, bool) {
	if p.loaded == nil {
		v, ok := p.env[name]
		return v, ok
	}
	v, ok := p.loaded.Environment[name]
	return v, ok
}
