package build

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/berth-dev/berth/fscopy"
	"github.com/berth-dev/berth/image"
	berthrt "github.com/berth-dev/berth/runtime"
)

// run runs a RUN in a container over the stage's layers, with its ENV,
// ARGs, USER and WORKDIR, and no network but loopback.
func (b *builder) run(ctx context.Context, r *stageResult, c *instructions.RunCommand, text string) (bool, []string, error) {
	for _, flag := range c.FlagsUsed {
		if flag != "mount" {
			return false, nil, fmt.Errorf("RUN --%s: %w", flag, ErrUnsupported)
		}
	}
	mounts, err := b.runMounts(c)
	if err != nil {
		return false, nil, err
	}
	argv, script, err := runArgv(r.conf, c)
	if err != nil {
		return false, nil, err
	}
	key, err := stepKey(r.key, c, r.conf, r.scope(), text) // the text holds the --mount flags
	if err != nil {
		return false, nil, err
	}
	return b.fsStep(ctx, r, key, text, func() (*image.Layer, []string, error) {
		out := lines{emit: func(line string) {
			b.emit(Event{Step: b.step, Stage: stageName(b.df.stages, r.index), Instruction: text, Line: line})
		}}
		cfg := berthrt.Config{Args: argv, Env: append(proxyArgs(b.o.Args), r.scope().runEnv()...), Cwd: r.conf.cfg.WorkingDir, User: r.conf.cfg.User, Hostname: "buildkitsandbox", Mounts: mounts}
		if script != nil {
			m, err := b.scriptMount(*script)
			if err != nil {
				return nil, nil, err
			}
			cfg.Mounts = append(cfg.Mounts, m)
		}
		l, err := b.inContainer(ctx, r, cfg, func(cfg berthrt.Config) error {
			if err := b.rt.Start(ctx, cfg); err != nil {
				return err
			}
			code, err := b.waitRun(ctx, cfg.ID, &out)
			if err != nil {
				return err
			}
			if code != 0 {
				return fmt.Errorf("%w: process %q did not complete successfully: exit code: %d%s", ErrStepFailed, strings.Join(argv, " "), code, lastLines(out.done(), 5))
			}
			return nil
		})
		return l, out.done(), err
	})
}

// runArgv is a RUN's argv, as BuildKit makes it: a lone heredoc runs its
// content through the SHELL, or, starting with #!, as a script file
// (returned, to be mounted at its argv[0]); other heredocs are given to
// the shell with the command line.
func runArgv(conf stageConfig, c *instructions.RunCommand) ([]string, *instructions.ShellInlineFile, error) {
	if len(c.Files) == 0 {
		return conf.commandLine(c.ShellDependantCmdLine), nil, nil
	}
	args := c.CmdLine
	if len(args) != 1 || !c.PrependShell {
		return nil, nil, fmt.Errorf("a RUN heredoc in exec form: %w", ErrUnsupported)
	}
	if h := parser.MustParseHeredoc(args[0]); h != nil {
		f := c.Files[0]
		if f.Chomp {
			f.Data = parser.ChompHeredocContent(f.Data)
		}
		if strings.HasPrefix(f.Data, "#!") {
			return []string{path.Join(scriptDir, f.Name)}, &f, nil
		}
		return append(slices.Clone(conf.shell), f.Data), nil, nil
	}
	var sb strings.Builder
	sb.WriteString(args[0])
	for _, f := range c.Files {
		sb.WriteString("\n" + f.Data + f.Name)
	}
	return append(slices.Clone(conf.shell), sb.String()), nil, nil
}

// scriptDir is where a RUN's #! heredoc is mounted, as in BuildKit.
const scriptDir = "/dev/pipes"

// scriptMount writes a #! heredoc to a file of the build's temporary
// directory and returns its read-only bind mount.
func (b *builder) scriptMount(f instructions.ShellInlineFile) (berthrt.Mount, error) {
	dir, err := b.tempDir()
	if err != nil {
		return berthrt.Mount{}, err
	}
	p, err := os.CreateTemp(dir, "script-")
	if err != nil {
		return berthrt.Mount{}, fmt.Errorf("writing the heredoc script: %w", err)
	}
	_, werr := p.WriteString(f.Data)
	if err := errors.Join(werr, p.Chmod(0o755), p.Close()); err != nil {
		return berthrt.Mount{}, fmt.Errorf("writing the heredoc script: %w", err)
	}
	return berthrt.Mount{Type: "bind", Source: p.Name(), Target: path.Join(scriptDir, f.Name), ReadOnly: true}, nil
}

// waitRun streams the output of the started container id to out until
// it exits and returns its exit code. An attach that comes as the
// container's shim is shutting down finds it neither running nor yet
// exited (ErrNotAttachable); it is tried again until the exit is
// recorded, and then replays the whole log.
func (b *builder) waitRun(ctx context.Context, id string, out io.Writer) (int, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, err := b.rt.Attach(ctx, id, berthrt.AttachOptions{Stdout: out, Stderr: out, Replay: true})
		if !errors.Is(err, berthrt.ErrNotAttachable) || time.Now().After(deadline) {
			return code, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// inContainer gives fn a fresh container over the stage's layers (cfg's
// ID and Layers are set here; fn creates or starts it), makes a layer of
// what fn changed in it, and removes the container whatever happens.
func (b *builder) inContainer(ctx context.Context, r *stageResult, cfg berthrt.Config, fn func(berthrt.Config) error) (*image.Layer, error) {
	var rnd [6]byte
	rand.Read(rnd[:])
	cfg.ID = "berth-build-" + hex.EncodeToString(rnd[:])
	cfg.Layers = r.lowerDirs()
	if len(cfg.Layers) == 0 {
		dir, err := b.emptyDir()
		if err != nil {
			return nil, err
		}
		cfg.Layers = []string{dir}
	}
	defer b.rt.Remove(context.WithoutCancel(ctx), cfg.ID)
	if err := fn(cfg); err != nil {
		return nil, err
	}
	var targets []string
	for _, m := range cfg.Mounts {
		targets = append(targets, m.Target)
	}
	removeStubs(b.rt.UpperDir(cfg.ID), cfg.Layers, targets)
	return b.commitUpper(ctx, b.rt.UpperDir(cfg.ID), cfg.Layers)
}

// tempDir is the build's temporary directory (heredoc files), removed
// when the build ends.
func (b *builder) tempDir() (string, error) {
	if b.tmp == "" {
		d, err := os.MkdirTemp("", "berth-build-")
		if err != nil {
			return "", fmt.Errorf("creating a temporary directory: %w", err)
		}
		b.tmp = d
	}
	return b.tmp, nil
}

// emptyDir is an empty directory standing for scratch's missing layers.
func (b *builder) emptyDir() (string, error) {
	tmp, err := b.tempDir()
	if err != nil {
		return "", err
	}
	d := path.Join(tmp, "scratch")
	if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("creating an empty layer: %w", err)
	}
	return d, nil
}

// commitUpper stores the changes in upper as a layer; nil when none.
func (b *builder) commitUpper(ctx context.Context, upper string, lower []string) (*image.Layer, error) {
	if !hasChanges(upper, lower) {
		return nil, nil
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := diffTar(pw, upper, lower)
		pw.CloseWithError(err)
	}()
	l, err := b.store.AddLayer(ctx, pr)
	pr.CloseWithError(fmt.Errorf("layer not stored"))
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// hasChanges reports whether upper holds anything but the runtime's
// empty mount points.
func hasChanges(upper string, lower []string) bool {
	des, err := os.ReadDir(upper)
	if err != nil {
		return true // let diffTar report it
	}
	for _, d := range des {
		p := path.Join(upper, d.Name())
		if !(d.IsDir() && runtimeMountPoints[d.Name()] && emptyDir(p) && !inLayers(lower, d.Name())) {
			return true
		}
	}
	return false
}

// lines collects a RUN's output lines.
type lines struct {
	emit    func(string) // called with each complete line
	mu      sync.Mutex
	partial string
	all     []string
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.partial + string(p)
	parts := strings.Split(s, "\n")
	for _, line := range parts[:len(parts)-1] {
		l.all = append(l.all, line)
		if l.emit != nil {
			l.emit(line)
		}
	}
	l.partial = parts[len(parts)-1]
	return len(p), nil
}

func (l *lines) done() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.partial != "" {
		l.all = append(l.all, l.partial)
		if l.emit != nil {
			l.emit(l.partial)
		}
		l.partial = ""
	}
	return l.all
}

// copyFlags are the flags of a COPY or ADD.
type copyFlags struct {
	from, chown, chmod string
	add                bool
}

// copy runs a COPY or ADD: the sources, from the context or another
// stage, are written under the destination in a container's filesystem.
func (b *builder) copy(ctx context.Context, r *stageResult, cmd instructions.Command, sd instructions.SourcesAndDest, f copyFlags, text string) (bool, []string, error) {
	source := b.context
	if len(sd.SourceContents) > 0 {
		if len(sd.SourcePaths) > 0 || f.from != "" {
			return false, nil, fmt.Errorf("%s of heredocs mixed with files: %w", strings.ToUpper(cmd.Name()), ErrUnsupported)
		}
		t, paths, err := b.heredocTree(sd.SourceContents)
		if err != nil {
			return false, nil, err
		}
		defer t.root.Close()
		source, sd.SourcePaths = t, paths
	}
	mode, err := parseChmod(f.chmod)
	if err != nil {
		return false, nil, err
	}
	dest := sd.DestPath
	destIsDir := strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.")
	if !path.IsAbs(dest) {
		dest = path.Join(workdir("", r.conf.cfg.WorkingDir), dest)
	}
	var extra string
	var src *stageResult
	var ctxEntries []entry // the context's entries, read once for the key and the copy
	var ctxIsDir bool
	if f.from != "" {
		if j, ok := stageIndex(b.df.stages, f.from, r.index); ok {
			src, err = b.stage(ctx, j)
		} else {
			src, err = b.imageSource(ctx, f.from)
		}
		if err != nil {
			return false, nil, err
		}
		extra = "stage:" + src.key
	} else {
		if ctxEntries, ctxIsDir, err = source.collect(sd.SourcePaths); err != nil {
			return false, nil, err
		}
		if extra, err = source.contentDigest(ctxEntries); err != nil {
			return false, nil, err
		}
	}
	key, err := stepKey(r.key, cmd, r.conf, r.scope(), extra)
	if err != nil {
		return false, nil, err
	}
	return b.fsStep(ctx, r, key, text, func() (*image.Layer, []string, error) {
		l, err := b.inContainer(ctx, r, berthrt.Config{Args: []string{"true"}}, func(cfg berthrt.Config) error {
			return b.inFilesystem(ctx, cfg, func(root string) error {
				return b.withSource(ctx, source, src, func(t tree) error {
					entries, isDir := slices.Clone(ctxEntries), ctxIsDir // what the key was made of
					if src != nil {
						var err error
						if entries, isDir, err = t.collect(sd.SourcePaths); err != nil {
							return err
						}
					}
					var archives []entry
					if f.add && src == nil {
						entries, archives = splitArchives(t, entries)
						if len(archives) > 0 {
							isDir = true
						}
					}
					if len(entries) > 0 || len(archives) == 0 {
						if err := place(root, t, entries, isDir || destIsDir, dest, f.chown, mode); err != nil {
							return err
						}
					}
					return extractArchives(root, t, archives, dest)
				})
			})
		})
		return l, nil, err
	})
}

// inFilesystem creates container cfg (not started) and calls fn with its
// mounted root filesystem.
func (b *builder) inFilesystem(ctx context.Context, cfg berthrt.Config, fn func(root string) error) error {
	if err := b.rt.Create(cfg); err != nil {
		return err
	}
	return b.rt.InFilesystem(ctx, cfg.ID, fn)
}

// withSource calls fn with the tree COPY reads: source (the context or
// its heredocs), or the mounted filesystem of stage src.
func (b *builder) withSource(ctx context.Context, source tree, src *stageResult, fn func(tree) error) error {
	if src == nil {
		return fn(source)
	}
	_, err := b.inContainer(ctx, src, berthrt.Config{Args: []string{"true"}}, func(cfg berthrt.Config) error {
		return b.inFilesystem(ctx, cfg, func(root string) error {
			rt, err := os.OpenRoot(root)
			if err != nil {
				return err
			}
			defer rt.Close()
			return fn(tree{root: rt})
		})
	})
	return err
}

// place writes entries under dest in the filesystem at root: into dest
// when it is a directory (by the sources, a trailing slash, or because
// it is one), else as the file dest.
func place(root string, t tree, entries []entry, destIsDir bool, dest, chown string, mode *fs.FileMode) error {
	dr, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer dr.Close()
	uid, gid, err := resolveChown(dr, chown)
	if err != nil {
		return err
	}
	rel := strings.TrimPrefix(path.Clean(dest), "/")
	dir := rel
	if !destIsDir && len(entries) == 1 {
		if fi, err := dr.Stat(nonEmpty(rel)); err != nil || !fi.IsDir() {
			dir = path.Dir(rel)
			entries[0].name = path.Base(rel)
		}
	}
	if dir != "" && dir != "." {
		if err := dr.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", "/"+dir, err)
		}
	}
	dst, err := fscopy.OpenRoot(root)
	if err != nil {
		return err
	}
	defer dst.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(t.writeTar(pw, entries, copyOptions{uid: uid, gid: gid, mode: mode})) }()
	err = fscopy.ExtractArchive(pr, dst, "/"+dir, fscopy.Owner{Keep: true})
	pr.CloseWithError(fmt.Errorf("extraction ended"))
	if err != nil {
		return fmt.Errorf("writing to %s: %w", dest, err)
	}
	return nil
}

// resolveChown resolves --chown against the image's /etc/passwd and
// /etc/group; a user without group uses the user's ID as group, as
// Docker does.
func resolveChown(root *os.Root, chown string) (uid, gid int, err error) {
	if chown == "" {
		return 0, 0, nil
	}
	usr, grp, hasGroup := strings.Cut(chown, ":")
	u, uerr := strconv.Atoi(usr)
	g, gerr := strconv.Atoi(grp)
	if uerr == nil && (!hasGroup || gerr == nil) {
		if !hasGroup {
			g = u
		}
		return u, g, nil
	}
	passwd, _ := root.Open("etc/passwd")
	group, _ := root.Open("etc/group")
	var pr, gr io.Reader
	if passwd != nil {
		defer passwd.Close()
		pr = bufio.NewReader(passwd)
	}
	if group != nil {
		defer group.Close()
		gr = bufio.NewReader(group)
	}
	id, err := berthrt.ResolveUser(chown, pr, gr)
	if err != nil {
		return 0, 0, fmt.Errorf("--chown=%s: %w", chown, err)
	}
	if !hasGroup {
		return id.UID, id.UID, nil
	}
	return id.UID, id.GID, nil
}

// parseChmod parses --chmod's octal mode; nil when not given.
func parseChmod(s string) (*fs.FileMode, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return nil, fmt.Errorf("--chmod=%s: only octal modes are %w", s, ErrUnsupported)
	}
	m := fs.FileMode(v)
	return &m, nil
}

// checkAdd refuses the ADD forms berth does not do yet.
func checkAdd(c *instructions.AddCommand) error {
	for _, s := range c.SourcePaths {
		if strings.Contains(s, "://") || strings.HasPrefix(s, "git@") {
			return fmt.Errorf("ADD from a URL (%s): %w", s, ErrUnsupported)
		}
	}
	if c.Checksum != "" || c.KeepGitDir != nil || c.Unpack != nil || len(c.ExcludePatterns) > 0 {
		return fmt.Errorf("ADD --checksum, --keep-git-dir, --unpack and --exclude: %w", ErrUnsupported)
	}
	return nil
}

// workdir makes WORKDIR's directory when the stage's filesystem lacks
// it; the step has a layer only then.
func (b *builder) workdir(ctx context.Context, r *stageResult, c *instructions.WorkdirCommand, text string) (bool, []string, error) {
	dir := strings.TrimPrefix(r.conf.cfg.WorkingDir, "/")
	key, err := stepKey(r.key, c, r.conf, r.scope(), "")
	if err != nil || dir == "" {
		if err == nil {
			return b.metaStep(r, c, text)
		}
		return false, nil, err
	}
	return b.fsStep(ctx, r, key, text, func() (*image.Layer, []string, error) {
		l, err := b.inContainer(ctx, r, berthrt.Config{Args: []string{"true"}}, func(cfg berthrt.Config) error {
			return b.inFilesystem(ctx, cfg, func(root string) error {
				dr, err := os.OpenRoot(root)
				if err != nil {
					return err
				}
				defer dr.Close()
				if fi, err := dr.Stat(dir); err == nil && fi.IsDir() {
					return nil
				}
				if err := dr.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("creating %s: %w", r.conf.cfg.WorkingDir, err)
				}
				return nil
			})
		})
		return l, nil, err
	})
}

// lastLines is the end of a failed RUN's output, for its error.
func lastLines(all []string, n int) string {
	if len(all) == 0 {
		return ""
	}
	return "\n" + strings.Join(all[max(0, len(all)-n):], "\n")
}

// heredocTree writes COPY's heredocs as files of a fresh directory of the
// build's temporary directory and returns it as a source tree, with
// their names.
func (b *builder) heredocTree(docs []instructions.SourceContent) (tree, []string, error) {
	tmp, err := b.tempDir()
	if err != nil {
		return tree{}, nil, err
	}
	dir, err := os.MkdirTemp(tmp, "heredoc-")
	if err != nil {
		return tree{}, nil, fmt.Errorf("writing heredocs: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return tree{}, nil, err
	}
	var names []string
	for _, d := range docs {
		name, err := cleanSource(d.Path)
		if err != nil || name == "" {
			root.Close()
			return tree{}, nil, fmt.Errorf("heredoc name %q: %w", d.Path, ErrOutsideContext)
		}
		if err := root.WriteFile(name, []byte(d.Data), 0o644); err != nil {
			root.Close()
			return tree{}, nil, fmt.Errorf("writing heredoc %s: %w", name, err)
		}
		names = append(names, name)
	}
	return tree{root: root}, names, nil
}
