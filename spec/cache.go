package spec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// This file keeps loaded projects so that a command run again on unchanged
// files skips compose-go (its schema compilation and load are most of a
// no-op `up`). An entry is keyed by everything a load reads: berth's build
// (salt), the options, the whole process environment, the files the
// options resolve to and the content of every file the load read. A miss,
// an unreadable or corrupt entry, or any doubt is a full load.

// cacheFormat changes whenever the entry's encoding does.
const cacheFormat = "berth-project-cache/1"

// cacheEntry is one cached load, stored as JSON with mode 0600: Env holds
// the interpolation environment, secrets included.
type cacheEntry struct {
	Format   string
	Head     string      // digest of salt, options, environment and resolved files
	Inputs   []fileInput // every other file the load read, with its content digest
	Volatile []string    // the volatile variables the inputs name: "NAME=VALUE" at load
	Project  *Project
	Env      map[string]string // the interpolation environment (Project.LookupEnv)
	Profiles []string          // Project.AllProfiles
}

// fileInput is a file a load read: Sum is the hex SHA-256 of its content,
// "" when it did not exist or could not be read.
type fileInput struct {
	Path, Sum string
}

// LoadCached is Load through the cache in dir (created 0700 with its
// parent when missing).
// salt names berth's build: entries made by another build never match.
// A project from the cache equals Load's; Render, RunService and
// ResolveImages load the files again when they need compose-go's model.
func LoadCached(ctx context.Context, o LoadOptions, dir, salt string) (*Project, error) {
	r, err := o.resolve()
	if err != nil || slices.Contains(r.files, "-") {
		return Load(ctx, o)
	}
	head := cacheHead(o, r, salt)
	path := filepath.Join(dir, cacheName(o, r.wd))
	if p := readCache(path, head, r.environ, o); p != nil {
		p.digestWatched() // bind contents are not inputs of the load
		return p, nil
	}
	warned := loadWarnings()
	p, err := Load(ctx, o)
	if err != nil {
		return nil, err
	}
	if loadWarnings() == warned { // a load that warns warns every time
		writeCache(dir, path, head, r, p)
	}
	return p, nil
}

// cacheName names the entry of one command line in one directory, so
// that the cache holds one entry per place berth is used from (a new
// build of berth replaces the entries of the previous one).
func cacheName(o LoadOptions, wd string) string {
	return digestJSON(struct {
		WD                        string
		Files, Profiles, EnvFiles []string
		ProjectDir, ProjectName   string
		NoParents                 bool
	}{wd, o.Files, o.Profiles, o.EnvFiles, o.ProjectDir, o.ProjectName, o.NoParents})
}

// cacheHead digests what a load depends on besides file contents.
func cacheHead(o LoadOptions, r resolved, salt string) string {
	environ := slices.DeleteFunc(slices.Clone(r.environ), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return volatileVars[name]
	})
	slices.Sort(environ)
	return digestJSON(struct {
		Format, Salt, Name string
		Resolved           []string
		Files, EnvFiles    []string
		Environ            []string
	}{cacheFormat, salt, cacheName(o, r.wd), []string{r.wd, r.projectDir}, r.files, r.envFiles, environ})
}

func digestJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings and bools only
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readCache returns the entry at path when it matches head and every
// input is unchanged, nil otherwise.
func readCache(path, head string, environ []string, o LoadOptions) *Project {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Format != cacheFormat || e.Head != head || e.Project == nil {
		return nil
	}
	for _, in := range e.Inputs {
		if fileSum(in.Path) != in.Sum {
			return nil
		}
	}
	env := envMap(environ)
	for _, kv := range e.Volatile {
		name, value, set := strings.Cut(kv, "=")
		if v, ok := env[name]; ok != set || v != value {
			return nil
		}
	}
	p := e.Project
	p.env, p.profiles = e.Env, e.Profiles
	if p.env == nil {
		p.env = map[string]string{}
	}
	p.reload = func() *types.Project {
		full, err := Load(context.Background(), o)
		if err != nil {
			return nil
		}
		return full.loaded
	}
	return p
}

// writeCache stores p, loaded from r, at path; it gives up silently (the
// next load is a full one) when it cannot be sure of the inputs.
func writeCache(dir, path, head string, r resolved, p *Project) {
	cp := p.loaded
	if cp == nil {
		return
	}
	inputs, texts, ok := loadInputs(r, cp, p)
	if !ok {
		return
	}
	b, err := json.Marshal(cacheEntry{Format: cacheFormat, Head: head, Inputs: inputs, Volatile: namedVolatile(r.environ, texts),
		Project: p, Env: map[string]string(cp.Environment), Profiles: p.AllProfiles()})
	if err != nil {
		return
	}
	if err := os.Mkdir(filepath.Dir(dir), 0o700); err != nil && !os.IsExist(err) {
		return
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return
	}
	if atomicfile.Write(path, b, atomicfile.Mode(0o600)) == nil {
		pruneCache(dir)
	}
}

// cacheMaxAge is how long an entry not written again is kept: entries
// of places berth is no longer used from go away.
const cacheMaxAge = 30 * 24 * time.Hour

// pruneCache removes the entries (and leftover temporary files) of dir
// not written for cacheMaxAge.
func pruneCache(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > cacheMaxAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// includeOrExtends finds the keys that may make compose-go read files
// berth cannot list after the load (included and extended files); an
// extends of a service of the same file (`extends: NAME`) reads none.
var (
	includeOrExtends = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*-?\s*["']?(include|extends)["']?\s*:(.*)$`) })
	sameFileExtends  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*["']?[A-Za-z0-9._-]+["']?\s*(#.*)?$`) })
)

// readsOtherFiles reports whether compose file text may include or extend
// another file.
func readsOtherFiles(text []byte) bool {
	for _, m := range includeOrExtends().FindAllSubmatch(text, -1) {
		if string(m[1]) == "include" || !sameFileExtends().Match(m[2]) {
			return true
		}
	}
	return false
}

// loadInputs lists every file the load of p read with its digest: the
// compose files, the env files, the services' env_file and label_file,
// and configs' and secrets' files (with the digest the load took).
// It reports false when the load may have read files it cannot list.
// It returns the files' texts too, and false when the load may have read
// files it cannot list.
func loadInputs(r resolved, cp *types.Project, p *Project) ([]fileInput, [][]byte, bool) {
	var inputs []fileInput
	var texts [][]byte
	for _, f := range r.files {
		b, err := os.ReadFile(f)
		if err != nil || readsOtherFiles(b) {
			return nil, nil, false
		}
		texts = append(texts, b)
		sum := sha256.Sum256(b)
		inputs = append(inputs, fileInput{f, hex.EncodeToString(sum[:])})
	}
	paths := slices.Clone(r.envFiles)
	services := make([]types.ServiceConfig, 0, len(cp.Services)+len(cp.DisabledServices))
	for _, s := range cp.Services {
		services = append(services, s)
	}
	for _, s := range cp.DisabledServices {
		services = append(services, s)
	}
	for _, s := range services {
		for _, ef := range s.EnvFiles {
			paths = append(paths, absIn(r.projectDir, ef.Path))
		}
		for _, lf := range s.LabelFiles {
			paths = append(paths, absIn(r.projectDir, lf))
		}
	}
	for _, f := range paths {
		b, err := os.ReadFile(f)
		sum := ""
		if err == nil {
			texts = append(texts, b)
			s := sha256.Sum256(b)
			sum = hex.EncodeToString(s[:])
		}
		inputs = append(inputs, fileInput{f, sum})
	}
	for _, sources := range []map[string]FileSource{p.Configs, p.Secrets} {
		for _, fs := range sources {
			if fs.File == "" || fs.External {
				continue
			}
			sum := fs.Digest // the content the load read
			if sum == "" {   // unused, or unreadable at load
				sum = fileSum(fs.File)
			}
			inputs = append(inputs, fileInput{fs.File, sum})
		}
	}
	return inputs, texts, true
}

// volatileVars change from one command line to the next with nothing to
// do with the project: the shell's last argument, sudo's command line,
// the previous directory, the shell's depth and hyperfine's random
// padding of the environment; and from one login or terminal to the next:
// the SSH connection, terminal and agent socket, the session, window and
// pane. PWD is one of them too: the working directory it may name (the
// path os.Getwd reports) is in the key itself. They are left out of the
// key unless an input names them (namedVolatile).
var volatileVars = map[string]bool{"_": true, "SUDO_COMMAND": true, "OLDPWD": true, "SHLVL": true,
	"HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET": true, "PWD": true,
	"SSH_CLIENT": true, "SSH_CONNECTION": true, "SSH_TTY": true, "SSH_AUTH_SOCK": true,
	"XDG_SESSION_ID": true, "WINDOWID": true, "TERM_SESSION_ID": true, "TMUX_PANE": true}

// namedVolatile returns each volatile variable whose name appears as a
// word in one of texts (interpolated, passed through or read by an env
// file), "NAME=VALUE" or "NAME" when unset: those stay in the key.
func namedVolatile(environ []string, texts [][]byte) []string {
	env := envMap(environ)
	var kept []string
	for _, name := range slices.Sorted(maps.Keys(volatileVars)) {
		if !slices.ContainsFunc(texts, func(t []byte) bool { return containsWord(t, name) }) {
			continue
		}
		if v, ok := env[name]; ok {
			kept = append(kept, name+"="+v)
		} else {
			kept = append(kept, name)
		}
	}
	return kept
}

// containsWord reports whether word appears in text with no letter,
// digit or underscore on either side.
func containsWord(text []byte, word string) bool {
	for i := 0; ; {
		j := bytes.Index(text[i:], []byte(word))
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !isWordByte(text[start-1])) && (end == len(text) || !isWordByte(text[end])) {
			return true
		}
		i = start + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// fileSum is the hex SHA-256 of f's content, "" when it cannot be read.
func fileSum(f string) string {
	b, err := os.ReadFile(f)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var (
	warnings     atomic.Int64
	warningsHook sync.Once
)

// loadWarnings counts the warnings compose-go has logged so far: a load
// that warns is not cached, so that its warnings show every time.
func loadWarnings() int64 {
	warningsHook.Do(func() { logrus.AddHook(warningCounter{}) })
	return warnings.Load()
}

type warningCounter struct{}

func (warningCounter) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (warningCounter) Fire(*logrus.Entry) error {
	warnings.Add(1)
	return nil
}

// model is compose-go's model of p: the one Load made, or for a cached
// project a fresh load of the same options; nil for a project built by
// hand or when the reload fails.
func (p *Project) model() *types.Project {
	if p.loaded == nil && p.reload != nil {
		p.loaded, p.reload = p.reload(), nil
	}
	return p.loaded
}
