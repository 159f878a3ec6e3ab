package spec

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// locator finds which compose file, and which line of it, a model path
// came from, so that errors point at what the user wrote. compose-go merges
// the files before berth sees them, so this re-reads the raw YAML.
type locator struct {
	workingDir string
	files      []string     // absolute paths, in load order
	roots      []*yaml.Node // parsed documents, nil when unreadable
}

func newLocator(workingDir string, files []string) *locator {
	l := &locator{workingDir: workingDir, files: files}
	for _, f := range files {
		var doc yaml.Node
		b, err := os.ReadFile(f)
		if err != nil || yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
			l.roots = append(l.roots, nil)
			continue
		}
		l.roots = append(l.roots, doc.Content[0])
	}
	return l
}

// where returns "file:line" for path (see find).
func (l *locator) where(path []string) string {
	file, line := l.find(path)
	if file < 0 {
		return "compose file"
	}
	if line == 0 {
		return l.display(l.files[file])
	}
	return l.display(l.files[file]) + ":" + strconv.Itoa(line)
}

// find returns the index of the file that sets path and the line of its
// key: the last file that sets it (the one that won the merge), else the
// last one that sets its parent, and so on up; the first file and line 0
// when nothing matches (the key came from an extends or include of another
// file); -1 when there are no files.
func (l *locator) find(path []string) (file, line int) {
	if len(l.files) == 0 {
		return -1, 0
	}
	for n := len(path); n > 0; n-- {
		for i := len(l.roots) - 1; i >= 0; i-- {
			if line := lookup(l.roots[i], path[:n]); line > 0 {
				return i, line
			}
		}
	}
	return 0, 0
}

// display shortens a file name relative to the working directory when it
// lies below it.
func (l *locator) display(file string) string {
	if rel, err := filepath.Rel(l.workingDir, file); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return file
}

// lookup returns the line of the key at path in a mapping tree, 0 when
// absent. Path elements after a list ("[]") are not followed.
func lookup(node *yaml.Node, path []string) int {
	line := 0
	for _, key := range path {
		if node == nil || node.Kind != yaml.MappingNode || key == "[]" {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == key {
				line, next = node.Content[i].Line, node.Content[i+1]
			}
		}
		if next == nil {
			return 0
		}
		node = next
	}
	return line
}

// modelPath matches the first dotted model path in a compose-go message,
// e.g. "services.web.ports" in "services.web.ports must be a array".
var modelPath = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\b(?:services|networks|volumes|secrets|configs)(?:\.[A-Za-z0-9_.\-]+)+`)
})

// falseSchema is how compose-go's schema check reports a key the schema
// does not allow: "services.web.imagee false schema".
var falseSchema = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\S+) false schema$`) })

// annotate rewrites a compose-go error message so that it names the file,
// and the line when it can: the file and line holding the model path the
// message mentions are put in front, file names are shortened, and
// "false schema" becomes "unknown key".
func (l *locator) annotate(err error) string {
	msg := err.Error()
	for _, f := range l.files {
		msg = strings.ReplaceAll(msg, "validating "+f+": ", "")
	}
	if m := falseSchema().FindStringSubmatch(msg); m != nil {
		parts := strings.Split(m[1], ".")
		msg = m[1] + ": unknown key " + strconv.Quote(parts[len(parts)-1])
	}
	if m := modelPath().FindString(msg); m != "" {
		return l.where(strings.Split(strings.TrimRight(m, "."), ".")) + ": " + msg
	}
	named := false
	for _, f := range l.files {
		if strings.Contains(msg, f) {
			msg, named = strings.ReplaceAll(msg, f, l.display(f)), true
		}
	}
	if named {
		return msg
	}
	names := make([]string, len(l.files))
	for i, f := range l.files {
		names[i] = l.display(f)
	}
	return strings.Join(names, ", ") + ": " + msg
}
