package build

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/berth-dev/berth/image"
	berthrt "github.com/berth-dev/berth/runtime"
)

// Build builds the image o describes into store, running its RUN steps as
// containers of rt, and returns it, tagged o.Tag. Only the stages the
// target needs are built. On error nothing is tagged and no container or
// mount is left; layers already made stay in the store for the cache.
func Build(ctx context.Context, store *image.Store, rt *berthrt.Runtime, o Options) (*image.Image, error) {
	b, err := newBuilder(store, rt, o)
	if err != nil {
		return nil, fmt.Errorf("building: %w", err)
	}
	defer b.close()
	release, err := store.Hold(ctx) // no prune sweeps the layers made before Commit
	if err != nil {
		return nil, fmt.Errorf("building: %w", err)
	}
	defer release()
	target, err := targetIndex(b.df.stages, o.Target)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", b.df.name, err)
	}
	res, err := b.stage(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("building: %w", err)
	}
	fillHistoryTimes(res.history)
	img, err := store.Commit(ctx, res.layers, res.conf.cfg, res.history, res.created, o.Tag)
	if err != nil {
		return nil, fmt.Errorf("building: %w", err)
	}
	return img, nil
}

// builder is one build in progress.
type builder struct {
	store   *image.Store
	rt      *berthrt.Runtime
	o       Options
	df      *dockerfile
	lex     *shell.Lex
	context tree
	cache   cache
	global  map[string]string // global ARGs (before the first FROM), valued
	done    map[int]*stageResult
	step    int
	tmp     string // the build's temporary directory (heredocs, the empty layer under scratch), "" until needed
}

// stageResult is the state of a stage after its last step so far.
type stageResult struct {
	index   int
	layers  []image.Layer
	history []image.History
	conf    stageConfig
	args    map[string]string // the stage's ARGs
	argKeys []string          // the stage's ARG names in the order declared (RUN's history shows them)
	key     string            // cache key of the last step
	created time.Time         // when the newest step ran (from the cache when it did not run now)
}

func (r *stageResult) scope() scope { return scope{env: r.conf.cfg.Env, args: r.args} }

func (r *stageResult) lowerDirs() []string {
	dirs := make([]string, len(r.layers))
	for i, l := range r.layers {
		dirs[i] = l.Dir
	}
	return dirs
}

func newBuilder(store *image.Store, rt *berthrt.Runtime, o Options) (*builder, error) {
	ctxDir, err := filepath.Abs(o.Context)
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", o.Context, err)
	}
	if fi, err := os.Stat(ctxDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("context %q is not a directory", o.Context)
	}
	name, src, err := readDockerfile(ctxDir, o.Dockerfile, o.DockerfileInline)
	if err != nil {
		return nil, err
	}
	df, err := parseDockerfile(name, src)
	if err != nil {
		return nil, err
	}
	ignorePath := ""
	if o.DockerfileInline == "" {
		ignorePath = name
	}
	pm, err := loadIgnore(ignoreFile(ctxDir, ignorePath))
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(ctxDir)
	if err != nil {
		return nil, fmt.Errorf("opening the context: %w", err)
	}
	cacheDir, err := store.BuildCacheDir()
	if err != nil {
		root.Close()
		return nil, err
	}
	b := &builder{
		store: store, rt: rt, o: o, df: df,
		lex:     shell.NewLex(df.escape),
		context: tree{root: root, ignore: ignoreMatcher{pm}},
		cache:   cache{dir: cacheDir},
		global:  map[string]string{},
		done:    map[int]*stageResult{},
	}
	for i := range df.metaArgs {
		a := &df.metaArgs[i]
		if err := a.Expand(expander(b.lex, scope{args: b.global})); err != nil {
			root.Close()
			return nil, located(df.name, err)
		}
		declareArgs(b.global, a, o.Args, nil)
	}
	return b, nil
}

func (b *builder) close() {
	b.context.root.Close()
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

func (b *builder) emit(e Event) {
	if b.o.Progress != nil {
		b.o.Progress(e)
	}
}

// stage builds stage i (once), after the stages it needs.
func (b *builder) stage(ctx context.Context, i int) (*stageResult, error) {
	if r, ok := b.done[i]; ok {
		return r, nil
	}
	st := b.df.stages[i]
	// The stages its COPY --from name are built first, as BuildKit
	// orders them; a name only known after expansion is built when met.
	for _, cmd := range st.Commands {
		if c, ok := cmd.(*instructions.CopyCommand); ok && c.From != "" {
			if j, ok := stageIndex(b.df.stages, c.From, i); ok {
				if _, err := b.stage(ctx, j); err != nil {
					return nil, err
				}
			}
		}
	}
	r, err := b.from(ctx, i)
	if err != nil {
		return nil, b.at(st.Location, "FROM "+st.BaseName, err)
	}
	// The base's ONBUILD triggers run first, and are not passed on.
	triggers := r.conf.cfg.OnBuild
	r.conf.cfg.OnBuild = nil
	for _, trigger := range triggers {
		cmd, err := parseTrigger(trigger)
		if err != nil {
			return nil, b.at(st.Location, "ONBUILD "+trigger, err)
		}
		if err := b.runStep(ctx, r, cmd, st.Location); err != nil {
			return nil, err
		}
	}
	for _, cmd := range st.Commands {
		if err := b.runStep(ctx, r, cmd, cmd.Location()); err != nil {
			return nil, err
		}
	}
	b.done[i] = r
	return r, nil
}

// from resolves the base of stage i: a previous stage, scratch or an
// image of the store.
func (b *builder) from(ctx context.Context, i int) (*stageResult, error) {
	st := b.df.stages[i]
	base, err := b.lex.ProcessWordWithMatches(st.BaseName, scope{args: b.global})
	if err != nil {
		return nil, err
	}
	name := base.Result
	if name == "" {
		return nil, fmt.Errorf("base name (%s) should not be blank", st.BaseName)
	}
	if st.Platform != "" {
		p, err := b.lex.ProcessWordWithMatches(st.Platform, scope{args: b.global})
		if err != nil {
			return nil, err
		}
		if host := "linux/" + runtime.GOARCH; p.Result != host {
			return nil, fmt.Errorf("FROM --platform=%s (this host is %s): %w", p.Result, host, ErrUnsupported)
		}
	}
	b.step++
	ev := Event{Step: b.step, Stage: stageName(b.df.stages, i), Instruction: "FROM " + name}
	b.emit(ev)
	start := time.Now()
	r := &stageResult{index: i, args: map[string]string{}, conf: stageConfig{shell: defaultShell}}
	switch j, isStage := stageIndex(b.df.stages, name, i); {
	case isStage:
		parent, err := b.stage(ctx, j)
		if err != nil {
			return nil, err
		}
		r.layers, r.history, r.key, r.created = slices.Clone(parent.layers), slices.Clone(parent.history), parent.key, parent.created
		// BuildKit passes a stage's ARGs on to the stages FROM it.
		r.args, r.argKeys = maps.Clone(parent.args), slices.Clone(parent.argKeys)
		r.conf = stageConfig{cfg: parent.conf.cfg, shell: parent.conf.shell}
		r.conf.cfg.Labels = maps.Clone(parent.conf.cfg.Labels)
	case strings.EqualFold(name, "scratch"):
		r.conf.cfg.Env = []string{defaultPathEnv}
		r.key = baseKey("scratch", "")
	default:
		ref, dir := b.named(name)
		if dir != "" {
			return nil, fmt.Errorf("FROM the directory of named context %q: %w", name, ErrUnsupported)
		}
		img, err := b.imageSource(ctx, ref)
		if err != nil {
			return nil, err
		}
		img.index, img.args, img.conf.shell = i, r.args, defaultShell
		if len(img.conf.cfg.Shell) > 0 {
			img.conf.shell = img.conf.cfg.Shell
		}
		r = img
	}
	ev.Done, ev.Duration = true, time.Since(start)
	b.emit(ev)
	return r, nil
}

// named resolves a name FROM or COPY --from gives that is not a stage:
// the image of a "docker-image://" named context, the directory of
// another, or else the name itself as an image reference.
func (b *builder) named(name string) (ref, dir string) {
	v, ok := b.o.NamedContexts[name]
	switch {
	case !ok:
		return name, ""
	case strings.HasPrefix(v, "docker-image://"):
		return strings.TrimPrefix(v, "docker-image://"), ""
	default:
		return "", v
	}
}

// imageSource is the state an image starts a stage with (FROM) or is
// copied from (COPY --from=image): from the store, pulled when missing
// (or always with Options.Pull).
func (b *builder) imageSource(ctx context.Context, name string) (*stageResult, error) {
	img, _, err := b.store.Lookup(name)
	if b.o.Pull || errors.Is(err, image.ErrNotFound) {
		img, err = b.store.Pull(ctx, name, image.PullOptions{})
	}
	if err != nil {
		return nil, err
	}
	r := &stageResult{index: -1, args: map[string]string{}, key: baseKey("image", img.Digest), created: img.Created}
	if r.layers, err = b.store.Layers(ctx, img); err != nil {
		return nil, err
	}
	if r.history, err = b.store.HistoryOf(img); err != nil {
		return nil, err
	}
	r.conf.cfg = img.Config
	r.conf.cfg.Labels = maps.Clone(img.Config.Labels)
	return r, nil
}

// runStep runs one instruction of a stage and reports it; an error names
// the Dockerfile line loc (the FROM line for an ONBUILD trigger).
func (b *builder) runStep(ctx context.Context, r *stageResult, cmd instructions.Command, loc []parser.Range) error {
	b.step++
	text := instructionText(cmd)
	ev := Event{Step: b.step, Stage: stageName(b.df.stages, r.index), Instruction: text}
	b.emit(ev)
	start := time.Now()
	cached, out, err := b.do(ctx, r, cmd, text)
	ev.Done, ev.Cached, ev.Duration, ev.Output = true, cached, time.Since(start), out
	b.emit(ev)
	if err != nil {
		return b.at(loc, text, err)
	}
	// The entry do added gets the text BuildKit writes.
	var argv []string
	if c, ok := cmd.(*instructions.RunCommand); ok {
		argv, _, _ = runArgv(r.conf, c)
	}
	last := len(r.history) - 1
	if by, ok := createdBy(cmd, r, argv); ok {
		r.history[last].CreatedBy = by
	} else {
		r.history = r.history[:last]
	}
	return nil
}

// at names the Dockerfile line of a failed instruction.
func (b *builder) at(loc []parser.Range, text string, err error) error {
	if len(loc) > 0 {
		return fmt.Errorf("%s:%d: %s: %w", b.df.name, loc[0].Start.Line, text, err)
	}
	return fmt.Errorf("%s: %s: %w", b.df.name, text, err)
}

// instructionText is the instruction as written.
func instructionText(cmd instructions.Command) string {
	if s, ok := cmd.(fmt.Stringer); ok {
		return s.String()
	}
	return cmd.Name()
}

// do runs one instruction; it reports whether its result came from the
// cache, and what a RUN printed.
func (b *builder) do(ctx context.Context, r *stageResult, cmd instructions.Command, text string) (bool, []string, error) {
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		if err := ex.Expand(expander(b.lex, r.scope())); err != nil {
			return false, nil, err
		}
	}
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
		raw := shell.NewLex('\\')
		raw.SkipProcessQuotes = true // heredoc content keeps its quotes
		if err := ex.ExpandRaw(expander(raw, r.scope())); err != nil {
			return false, nil, err
		}
	}
	switch c := cmd.(type) {
	case *instructions.ArgCommand:
		declareArgs(r.args, c, b.o.Args, b.global)
		for _, a := range c.Args {
			if !slices.Contains(r.argKeys, a.Key) {
				r.argKeys = append(r.argKeys, a.Key)
			}
		}
		return b.metaStep(r, c, text)
	case *instructions.RunCommand:
		return b.run(ctx, r, c, text)
	case *instructions.CopyCommand:
		if c.Parents || len(c.ExcludePatterns) > 0 {
			return false, nil, fmt.Errorf("COPY --parents and --exclude: %w", ErrUnsupported)
		}
		return b.copy(ctx, r, c, c.SourcesAndDest, copyFlags{from: c.From, chown: c.Chown, chmod: c.Chmod}, text)
	case *instructions.AddCommand:
		if err := checkAdd(c); err != nil {
			return false, nil, err
		}
		sum := ""
		if c.Checksum != "" {
			sum, _ = parseChecksum(c.Checksum) // checked by checkAdd
		}
		return b.copy(ctx, r, c, c.SourcesAndDest, copyFlags{chown: c.Chown, chmod: c.Chmod, checksum: sum, add: true}, text)
	case *instructions.WorkdirCommand:
		if _, err := r.conf.apply(c); err != nil {
			return false, nil, err
		}
		return b.workdir(ctx, r, c, text)
	}
	handled, err := r.conf.apply(cmd)
	if err != nil {
		return false, nil, err
	}
	if !handled {
		return false, nil, fmt.Errorf("%s: %w", strings.ToUpper(cmd.Name()), ErrUnsupported)
	}
	return b.metaStep(r, cmd, text)
}

// metaStep records a step that changes no files: it advances the cache
// key and reports whether the cache had it.
func (b *builder) metaStep(r *stageResult, cmd instructions.Command, text string) (bool, []string, error) {
	key, err := stepKey(r.key, cmd, r.conf, r.scope(), "")
	if err != nil {
		return false, nil, err
	}
	rec, hit := b.cache.get(key)
	hit = hit && !b.o.NoCache
	if !hit {
		rec = record{Created: time.Now().UTC()}
		if err := b.cache.put(key, rec); err != nil {
			return false, nil, err
		}
	}
	b.add(r, key, text, nil, time.Time{}) // its time is filled in as BuildKit does
	return hit, nil, nil
}

// fsStep runs a step that may change files: from the cache when it has
// key, else with produce, whose layer (nil: no change) is recorded.
func (b *builder) fsStep(ctx context.Context, r *stageResult, key, text string, produce func() (*image.Layer, []string, error)) (bool, []string, error) {
	if !b.o.NoCache {
		if rec, ok := b.cache.get(key); ok {
			l, err := b.ensure(ctx, rec.Layer)
			if err == nil {
				b.add(r, key, text, l, rec.Created)
				return true, nil, nil
			}
		}
	}
	l, out, err := produce()
	if err != nil {
		return false, out, err
	}
	rec := record{Layer: l, Created: time.Now().UTC()}
	if err := b.cache.put(key, rec); err != nil {
		return false, out, err
	}
	b.add(r, key, text, l, rec.Created)
	return false, out, nil
}

// ensure checks that a cached layer (nil for none) is still in the
// store, its snapshot unpacked.
func (b *builder) ensure(ctx context.Context, l *image.Layer) (*image.Layer, error) {
	if l == nil {
		return nil, nil
	}
	got, err := b.store.EnsureLayer(ctx, *l)
	if err != nil {
		return nil, err
	}
	return &got, nil
}

// add appends a step's layer (nil for none) and history to the stage.
func (b *builder) add(r *stageResult, key, text string, l *image.Layer, created time.Time) {
	if l != nil {
		r.layers = append(r.layers, *l)
	}
	r.key = key
	if created.After(r.created) {
		r.created = created
	}
	r.history = append(r.history, image.History{Created: created, CreatedBy: text, Comment: historyComment, EmptyLayer: l == nil})
}
