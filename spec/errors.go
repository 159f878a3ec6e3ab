package spec

import (
	"errors"
	"sort"
	"strings"
)

// Sentinel errors of Load, tested with errors.Is.
var (
	// ErrInvalid: a compose file is not valid (bad YAML, schema violation,
	// unknown key, wrong type, failed interpolation, inconsistent references).
	ErrInvalid = errors.New("invalid compose file")
	// ErrUnsupported: a compose file is valid but asks for something berth
	// does not implement yet; running it anyway would silently differ from
	// Docker Compose.
	ErrUnsupported = errors.New("not supported by berth yet")
	// ErrNoComposeFile: no -f was given, COMPOSE_FILE is unset, and no
	// compose.yaml (or other default name) exists in the directory or above.
	ErrNoComposeFile = errors.New("no compose file found")
)

// problem is one finding about a loaded file, located by its path in the
// compose model (e.g. services, web, healthcheck).
type problem struct {
	kind error    // ErrInvalid or ErrUnsupported
	path []string // model path, "[]" for list items
	msg  string   // e.g. `healthcheck is not supported by berth yet`
}

// problems collects findings so that Load reports all of them at once.
type problems []problem

func (ps *problems) add(kind error, msg string, path ...string) {
	*ps = append(*ps, problem{kind: kind, path: path, msg: msg})
}

// unsupported notes that what (a key path or a value) is not implemented.
func (ps *problems) unsupported(what string, path ...string) {
	ps.add(ErrUnsupported, what+" is not supported by berth yet", path...)
}

func (ps *problems) invalid(msg string, path ...string) {
	ps.add(ErrInvalid, msg, path...)
}

// err turns the findings into one error, a line per problem naming file,
// line and subject, in file order, or nil when there are none.
func (ps problems) err(loc *locator) error {
	if len(ps) == 0 {
		return nil
	}
	type located struct {
		file, line int
		text       string
	}
	all := make([]located, 0, len(ps))
	kinds := map[error]bool{}
	for _, p := range ps {
		file, line := loc.find(p.path)
		all = append(all, located{file, line, loc.where(p.path) + ": " + subject(p.path) + p.msg})
		kinds[p.kind] = true
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.file != b.file {
			return a.file < b.file
		}
		if a.line != b.line {
			return a.line < b.line
		}
		return a.text < b.text
	})
	e := &problemsError{}
	for i, l := range all {
		if i == 0 || l.text != all[i-1].text {
			e.lines = append(e.lines, l.text)
		}
	}
	for _, p := range ps {
		if kinds[p.kind] {
			e.kinds = append(e.kinds, p.kind)
			kinds[p.kind] = false
		}
	}
	return e
}

// subject names what a path is about: `service "web": `.
func subject(path []string) string {
	if len(path) < 2 {
		return ""
	}
	kind := map[string]string{"services": "service", "networks": "network", "volumes": "volume", "jobs": "job",
		"configs": "config", "secrets": "secret"}[path[0]]
	if kind == "" {
		return ""
	}
	return kind + ` "` + path[1] + `": `
}

// problemsError is every problem found in one load.
type problemsError struct {
	kinds []error
	lines []string
}

func (e *problemsError) Error() string {
	if len(e.lines) == 1 {
		return e.lines[0]
	}
	return strings.Join(e.lines, "\n")
}

func (e *problemsError) Unwrap() []error { return e.kinds }
