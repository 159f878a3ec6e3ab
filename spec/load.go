package spec

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadOptions says which compose files to load and how, mirroring the
// Docker Compose command line. Relative paths are taken against WorkingDir.
type LoadOptions struct {
	WorkingDir  string   // where berth was run (default os.Getwd)
	ProjectDir  string   // --project-directory; default: the directory of the first file
	Files       []string // -f, repeatable; empty: COMPOSE_FILE, else discovery from ProjectDir or WorkingDir upwards
	ProjectName string   // -p; else COMPOSE_PROJECT_NAME; else `name:`; else the project directory's name, normalised
	Profiles    []string // --profile; else COMPOSE_PROFILES
	EnvFiles    []string // --env-file; else <projectdir>/.env when it exists
	Environ     []string // os.Environ() normally; nil means os.Environ()
	// NoParents looks for the default compose file in the project
	// directory only, not in its parents (a stack exported from git).
	NoParents bool
}

// Load reads, merges, interpolates and validates the compose files through
// compose-go and converts the result into berth's model. Services disabled
// by the active profiles are left out. Invalid files fail with ErrInvalid,
// features berth lacks with ErrUnsupported, each problem naming file and key.
func Load(ctx context.Context, o LoadOptions) (*Project, error) {
	compileSchema()
	var found problems
	opts, files, wd, err := o.projectOptions(cli.WithLoadOptions(withScreening(&found)))
	if err != nil {
		return nil, err
	}
	loc := newLocator(wd, files)
	cp, err := opts.LoadProject(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if refs := referenceProblems(ctx, o); len(refs) > 0 {
			return nil, refs.err(loc)
		}
		return nil, fmt.Errorf("%w: %s", ErrInvalid, loc.annotate(err))
	}

	found = enabledOnly(found, cp)
	p := convertProject(cp, &found)
	if err := found.err(loc); err != nil {
		return nil, err
	}
	return p, nil
}

// ProjectName is the name of the project o names, as Load would give it,
// for commands that need nothing else (exec): the files are read and
// interpolated but neither validated nor normalised.
func ProjectName(ctx context.Context, o LoadOptions) (string, error) {
	opts, _, _, err := o.projectOptions(cli.WithLoadOptions(func(lo *loader.Options) {
		lo.SkipValidation, lo.SkipNormalization, lo.SkipConsistencyCheck = true, true, true
		lo.SkipResolveEnvironment, lo.SkipDefaultValues = true, true
	}))
	if err != nil {
		return "", err
	}
	cp, err := opts.LoadProject(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return cp.Name, nil
}

// projectOptions resolves o as Docker Compose does (working and project
// directories, files, env files, profiles, name) into compose-go's
// options, with extra ones last; it returns them with the files and the
// working directory.
func (o LoadOptions) projectOptions(extra ...cli.ProjectOptionsFn) (*cli.ProjectOptions, []string, string, error) {
	r, err := o.resolve()
	if err != nil {
		return nil, nil, "", err
	}
	wd, projectDir, files, envFiles, environ := r.wd, r.projectDir, r.files, r.envFiles, r.environ
	// The working directory is always explicit, so compose-go never falls
	// back to os.Getwd.
	fns := []cli.ProjectOptionsFn{cli.WithWorkingDirectory(projectDir), cli.WithEnv(environ)}
	if len(envFiles) > 0 {
		// WithDotEnv reads only the files WithEnvFiles set: without it
		// first, .env would silently not be read. (WithEnvFiles with no
		// files would look for .env itself, consulting the real process
		// environment: envFiles already did that from Environ.)
		fns = append(fns, cli.WithEnvFiles(envFiles...), cli.WithDotEnv)
	}
	fns = append(fns,
		cli.WithDefaultProfiles(o.Profiles...), // after WithDotEnv: COMPOSE_PROFILES may come from .env
		cli.WithName(o.ProjectName),
	)
	opts, err := cli.NewProjectOptions(files, append(fns, extra...)...)
	if err != nil { // a bad -p, env file or profile list, not a compose file
		return nil, nil, "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return opts, files, wd, nil
}

// resolved is what LoadOptions name once the working directory, the
// environment and the file system have been consulted: everything a load
// reads besides the contents of the files.
type resolved struct {
	wd, projectDir  string
	files, envFiles []string // absolute, "-" for stdin
	environ         []string
}

// resolve finds o's working and project directories, compose files and
// env files as Docker Compose does.
func (o LoadOptions) resolve() (resolved, error) {
	wd, err := workingDir(o.WorkingDir)
	if err != nil {
		return resolved{}, err
	}
	environ := o.Environ
	if environ == nil {
		environ = os.Environ()
	}
	env := envMap(environ)

	projectDir := absIn(wd, o.ProjectDir)
	lookupDir := projectDir // where COMPOSE_FILE's .env and default files are looked for
	if lookupDir == "" {
		lookupDir = wd
	}
	files, err := composeFiles(wd, lookupDir, o.Files, env, o.NoParents)
	if err != nil {
		return resolved{}, err
	}
	if projectDir == "" {
		projectDir = wd // for stdin ("-")
		if files[0] != "-" {
			projectDir = filepath.Dir(files[0])
		}
	}
	envFiles, err := envFiles(wd, projectDir, o.EnvFiles, env)
	if err != nil {
		return resolved{}, err
	}
	return resolved{wd: wd, projectDir: projectDir, files: files, envFiles: envFiles, environ: environ}, nil
}

// referenceProblems explains a failed load better than compose-go can when
// a network_mode or volumes_from names a service the project lacks:
// compose-go reports it as a depends_on on an undefined service, without
// naming the key. It loads the files again without compose-go's
// consistency check and returns berth's findings about those references,
// with the unsupported attributes found on the way, or nothing when the
// references are fine (compose-go's error then stands).
func referenceProblems(ctx context.Context, o LoadOptions) problems {
	var found problems
	opts, _, _, err := o.projectOptions(cli.WithConsistency(false), cli.WithLoadOptions(withScreening(&found)))
	if err != nil {
		return nil
	}
	cp, err := opts.LoadProject(ctx)
	if err != nil {
		return nil
	}
	var refs problems
	for _, cs := range cp.Services {
		var s Service
		convertNetworking(&s, cs, cp, &refs)
		convertFiles(&s, cs, cp, &refs)
	}
	if len(refs) == 0 {
		return nil
	}
	return append(refs, enabledOnly(found, cp)...)
}

func workingDir(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("finding the working directory: %w", err)
		}
		return wd, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving working directory %q: %w", dir, err)
	}
	return abs, nil
}

// absIn makes p absolute against dir ("-", stdin, is kept).
func absIn(dir, p string) string {
	if p == "" || p == "-" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// composeFiles picks the files to load as Docker Compose does: -f, else
// COMPOSE_FILE (from the environment or the .env of dir), else the first
// default name found in dir or a parent, with its override file.
func composeFiles(wd, dir string, given []string, env map[string]string, noParents bool) ([]string, error) {
	if len(given) == 0 {
		given = composeFileEnv(dir, env)
	}
	if len(given) > 0 {
		files := make([]string, len(given))
		for i, f := range given {
			files[i] = absIn(wd, f)
		}
		return files, nil
	}
	for d := dir; ; d = filepath.Dir(d) {
		if f := firstFile(d, cli.DefaultFileNames); f != "" {
			files := []string{f}
			if o := firstFile(d, cli.DefaultOverrideFileNames); o != "" {
				files = append(files, o)
			}
			return files, nil
		}
		if noParents {
			return nil, fmt.Errorf("%w in %s (looked for %s)", ErrNoComposeFile, dir, strings.Join(cli.DefaultFileNames, ", "))
		}
		if filepath.Dir(d) == d {
			return nil, fmt.Errorf("%w in %s or any parent directory (looked for %s)",
				ErrNoComposeFile, dir, strings.Join(cli.DefaultFileNames, ", "))
		}
	}
}

// composeFileEnv splits COMPOSE_FILE, taken from the environment or else
// from dir/.env, on COMPOSE_PATH_SEPARATOR (default ':').
func composeFileEnv(dir string, env map[string]string) []string {
	value, ok := env["COMPOSE_FILE"]
	sep := env["COMPOSE_PATH_SEPARATOR"]
	if !ok {
		dot, err := dotenv.GetEnvFromFile(env, existing(filepath.Join(dir, ".env")))
		if err != nil {
			return nil // reported with the file name when the project loads it
		}
		value, ok = dot["COMPOSE_FILE"]
		if sep == "" {
			sep = dot["COMPOSE_PATH_SEPARATOR"]
		}
	}
	if !ok || value == "" {
		return nil
	}
	if sep == "" {
		sep = string(os.PathListSeparator)
	}
	var files []string
	for _, f := range strings.Split(value, sep) {
		if f != "" {
			files = append(files, f)
		}
	}
	return files
}

// envFiles returns the files that set the interpolation environment: the
// given ones, else the project directory's .env if it exists (unless
// COMPOSE_DISABLE_ENV_FILE is true).
func envFiles(wd, projectDir string, given []string, env map[string]string) ([]string, error) {
	if len(given) > 0 {
		files := make([]string, len(given))
		for i, f := range given {
			files[i] = absIn(wd, f)
		}
		return files, nil
	}
	if v, ok := env["COMPOSE_DISABLE_ENV_FILE"]; ok {
		disabled, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%w: COMPOSE_DISABLE_ENV_FILE=%q: %w", ErrInvalid, v, err)
		}
		if disabled {
			return nil, nil
		}
	}
	return existing(filepath.Join(projectDir, ".env")), nil
}

// existing returns [f] when f is a regular file, else nothing.
func existing(f string) []string {
	if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
		return []string{f}
	}
	return nil
}

func firstFile(dir string, names []string) string {
	for _, n := range names {
		if f := existing(filepath.Join(dir, n)); f != nil {
			return f[0]
		}
	}
	return ""
}

// enabledOnly drops findings about services the active profiles disabled:
// compose-go screens the model before it applies profiles.
func enabledOnly(ps problems, cp *types.Project) problems {
	out := ps[:0]
	for _, p := range ps {
		if len(p.path) >= 2 && p.path[0] == "services" {
			if _, ok := cp.Services[p.path[1]]; !ok {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// NormalizeName turns s into a project name as Compose does with a
// directory's name: lower case, only letters, digits, '-' and '_'.
func NormalizeName(s string) string { return loader.NormalizeProjectName(s) }
