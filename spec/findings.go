package spec

// Finding is a problem another package found in a loaded project (a
// mapping to another platform that cannot express a key), located by its
// model path as Load locates its own: services, web, healthcheck.
type Finding struct {
	Kind error    // the sentinel the error wraps (errors.Is)
	Path []string // model path, "[]" for list items
	Msg  string   // e.g. `bind mounts are refused without --allow-hostpath`
}

// Report turns findings into one error, a line per finding naming file,
// line and subject in file order, as Load reports its own problems; nil
// when there are none. It reads the compose files again to find the lines.
func (p *Project) Report(found []Finding) error {
	if len(found) == 0 {
		return nil
	}
	ps := make(problems, 0, len(found))
	for _, f := range found {
		ps = append(ps, problem{kind: f.Kind, path: f.Path, msg: f.Msg})
	}
	return ps.err(newLocator(p.WorkingDir, p.Files))
}

// Extension is the value of an extension key (x-kube) of a service
// (kind "services") or a volume (kind "volumes"), as the files give it
// after interpolation and merging; nil when absent or when the project
// was not loaded from files.
func (p *Project) Extension(kind, name, key string) any {
	if p.loaded == nil {
		return nil
	}
	switch kind {
	case "services":
		if s, ok := p.loaded.Services[name]; ok {
			return s.Extensions[key]
		}
	case "volumes":
		if v, ok := p.loaded.Volumes[name]; ok {
			return v.Extensions[key]
		}
	}
	return nil
}
