package compose

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/atomicfile"
	"github.com/berth-dev/berth/reconcile"
)

func newPullCommand(g *globals) *cobra.Command {
	var quiet, ignore bool
	var o reconcile.PullOptions
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] [SERVICE...]",
		Short: "Pull service images, all in parallel",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Services = args
			return serviceImages(cmd, g, quiet, ignore, "pull", func(s *session) (reconcile.Plan, error) {
				obs, err := s.engine.ObserveState(cmd.Context(), s.project) // pull never builds
				if err != nil {
					return reconcile.Plan{}, err
				}
				return reconcile.PlanPull(s.project, obs, o)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "pull without printing progress information")
	f.BoolVar(&ignore, "ignore-pull-failures", false, "pull what it can and ignore images with pull failures")
	f.BoolVar(&o.IncludeDeps, "include-deps", false, "also pull services declared as dependencies")
	f.StringVar(&o.Policy, "policy", "", `apply pull policy ("missing"|"always")`)
	return cmd
}

func newPushCommand(g *globals) *cobra.Command {
	var quiet, ignore, deps bool
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] [SERVICE...]",
		Short: "Push service images",
		RunE: func(cmd *cobra.Command, args []string) error {
			return serviceImages(cmd, g, quiet, ignore, "push", func(s *session) (reconcile.Plan, error) {
				return reconcile.PlanPush(s.project, args, deps)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "push without printing progress information")
	f.BoolVar(&ignore, "ignore-push-failures", false, "push what it can and ignore images with push failures")
	f.BoolVar(&deps, "include-deps", false, "also push images of services declared as dependencies")
	return cmd
}

// serviceImages is pull and push of the project's images: plan with
// decide, apply, and with ignore, report failures as warnings and succeed.
func serviceImages(cmd *cobra.Command, g *globals, quiet, ignore bool, verb string, decide func(*session) (reconcile.Plan, error)) error {
	ctx := cmd.Context()
	out := newProgress(outOrDiscard(cmd, quiet))
	s, err := g.openStack(ctx, engine.WithPullProgress(out.pull))
	if err != nil {
		return err
	}
	defer s.close()
	plan, err := decide(s)
	if err != nil {
		return err
	}
	err = s.apply(ctx, plan, out)
	if err != nil && ignore {
		fmt.Fprintf(cmd.ErrOrStderr(), "WARN: %v (ignored: --ignore-%s-failures)\n", err, verb)
		return nil
	}
	return err
}

// applyImages carries out a plan of image actions, which needs no project.
func (g *globals) applyImages(cmd *cobra.Command, quiet bool, plan reconcile.Plan) error {
	out := newProgress(outOrDiscard(cmd, quiet))
	e, err := g.openEngine(engine.WithPullProgress(out.pull))
	if err != nil {
		return err
	}
	defer e.Close()
	return applyPlan(cmd.Context(), e, plan, out)
}

func outOrDiscard(cmd *cobra.Command, quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return statusOut(cmd)
}

func newImagesCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [SERVICE...]",
		Short: "List images used by the project's containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.view(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			recs, err := s.engine.Containers(cmd.Context(), s.project.Name, args, false)
			if err != nil {
				return err
			}
			var rows []projectImage
			for _, r := range recs {
				repo, tag := splitRef(r.Image)
				var size int64
				if img, err := s.engine.Images.Get(r.ImageID); err == nil {
					size = img.Size
				}
				rows = append(rows, projectImage{r.Name, repo, tag, r.ImageID, size})
			}
			return projectImages.render(cmd.OutOrStdout(), format, rows)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", formatUsage)
	return cmd
}

// projectImage is one row of `images`, with Docker Compose's JSON keys.
type projectImage struct {
	ContainerName, Repository, Tag, ID string
	Size                               int64
}

// ShortID is the image ID as tables show it.
func (r projectImage) ShortID() string { return shortDigest(r.ID) }

// HumanSize is the size as tables show it.
func (r projectImage) HumanSize() string { return humanBytes(r.Size) }

var projectImages = listing{
	table:   `{{.ContainerName}}\t{{.Repository}}\t{{.Tag}}\t{{.ShortID}}\t{{.HumanSize}}`,
	headers: map[string]string{"ContainerName": "CONTAINER", "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "ShortID": "IMAGE ID", "Size": "SIZE", "HumanSize": "SIZE"},
	array:   true,
}

// splitRef splits "repo:tag" (or "repo@digest") for display.
func splitRef(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		return ref[:i], "<none>"
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, "latest"
}

func newImageCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage images"}
	cmd.AddCommand(refuseDryRun(newImageImport(g)), newImageLs(g), newImageInspect(g), newImagePull(g), newImageRm(g), newImagePrune(g),
		refuseDryRun(newImageTag(g)), newImageSave(g), refuseDryRun(newImageLoad(g)), newImagePush(g), newImageHistory(g))
	return cmd
}

func newImageImport(g *globals) *cobra.Command {
	var changes []string
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] FILE|- REPOSITORY[:TAG]",
		Short: "Import the contents from a root filesystem tarball to create an image",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				r, closeFn, err := openInput(cmd, args[0])
				if err != nil {
					return err
				}
				defer closeFn()
				img, err := e.Images.Import(cmd.Context(), r, args[1], changes)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), img.ID)
				return err
			})
		},
	}
	cmd.Flags().StringArrayVarP(&changes, "change", "c", nil, "apply a Dockerfile instruction to the created image")
	return cmd
}

// openInput opens a file argument, "-" meaning stdin.
func openInput(cmd *cobra.Command, name string) (io.Reader, func(), error) {
	if name == "-" || name == "" {
		return cmd.InOrStdin(), func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

func newImageLs(g *globals) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List images",
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				imgs, err := e.Images.List()
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if quiet {
					for _, img := range imgs {
						fmt.Fprintln(out, shortDigest(img.ID))
					}
					return nil
				}
				rows := make([]imageRow, 0, len(imgs))
				for _, img := range imgs {
					repo, tag := splitRef(img.Ref)
					if img.Ref == "" {
						repo, tag = "<none>", "<none>"
					}
					digest := "<none>"
					if _, d, ok := strings.Cut(img.RepoDigest, "@"); ok {
						digest = d
					}
					rows = append(rows, imageRow{ID: shortDigest(img.ID), Repository: repo, Tag: tag, Digest: digest, Size: humanBytes(img.Size),
						CreatedAt: img.Created.Format("2006-01-02 15:04:05 -0700 MST"), created: img.Created})
				}
				return imageRows.render(out, format, rows)
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", formatUsage)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show image IDs")
	return cmd
}

// imageRow is one row of `image ls`, with Docker's JSON keys.
type imageRow struct {
	ID, Repository, Tag, Digest, Size, CreatedAt string
	created                                      time.Time
}

// CreatedSince is how long ago the image was made.
func (r imageRow) CreatedSince() string { return since(time.Since(r.created)) + " ago" }

var imageRows = listing{
	table: `{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`,
	headers: map[string]string{"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "Size": "SIZE",
		"CreatedAt": "CREATED AT", "CreatedSince": "CREATED"},
}

func newImageInspect(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect IMAGE...",
		Short: "Display detailed information on one or more images",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error {
				var out []image.InspectInfo
				for _, ref := range args {
					info, err := e.Images.Inspect(ref)
					if err != nil {
						return err
					}
					out = append(out, info)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "    ")
				return enc.Encode(out)
			})
		},
	}
}

func newImagePull(g *globals) *cobra.Command {
	var platform string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.applyImages(cmd, quiet, reconcile.PlanPullImage(args[0], platform))
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "pull this platform (os/arch[/variant]) of a multi-platform image")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress verbose output")
	return cmd
}

func newImagePush(g *globals) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.applyImages(cmd, quiet, reconcile.PlanPushImage(args[0]))
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress verbose output")
	return cmd
}

func newImageRm(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] IMAGE...",
		Aliases: []string{"remove", "rmi"},
		Short:   "Remove one or more images (not one a container uses, unless --force)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			return g.changeHost(cmd, func(e *engine.Engine, inv reconcile.Inventory) (reconcile.Plan, error) {
				return reconcile.PlanRemoveImages(inv, e.LookupImages(args), force)
			}, func(ev reconcile.Event) {
				if img := ev.Action.Image; img != nil {
					if img.Ref != "" {
						fmt.Fprintf(out, "Untagged: %s\n", img.Ref)
					}
					if img.Last {
						fmt.Fprintf(out, "Deleted: %s\n", img.ID)
					}
				}
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "untag even an image a container uses (its data stays while the container does)")
	return cmd
}

func newImagePrune(g *globals) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove dangling images (unused ones with --all), and the layers nothing uses",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !confirm(cmd, "WARNING! This will remove images no container uses"+map[bool]string{true: "", false: " that have no tag"}[all]+".\nAre you sure you want to continue? [y/N] ") {
				return nil
			}
			var deleted []string
			var freed int64
			err := g.changeHost(cmd, func(_ *engine.Engine, inv reconcile.Inventory) (reconcile.Plan, error) {
				return reconcile.PlanPruneImages(inv, all), nil
			}, func(ev reconcile.Event) {
				freed += ev.Freed
				if img := ev.Action.Image; img != nil {
					if img.Ref != "" {
						deleted = append(deleted, "untagged: "+img.Ref)
					}
					if img.Last {
						deleted = append(deleted, "deleted: "+img.ID)
					}
				}
			})
			out := cmd.OutOrStdout()
			if len(deleted) > 0 {
				fmt.Fprintf(out, "Deleted Images:\n%s\n\n", strings.Join(deleted, "\n"))
			}
			fmt.Fprintf(out, "Total reclaimed space: %s\n", humanBytes(freed))
			return err
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove all unused images, not just dangling ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not prompt for confirmation")
	return cmd
}

func newImageTag(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withEngine(func(e *engine.Engine) error { return e.Images.Tag(args[0], args[1]) })
		},
	}
}

func newImageSave(g *globals) *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE...",
		Short: "Save images to a tar archive (docker save format, or an OCI layout with --format oci)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var w io.Writer = cmd.OutOrStdout()
			if output == "" && isTerminal(w) {
				return errors.New("refusing to write an archive to a terminal: give -o FILE or redirect")
			}
			return g.withEngine(func(e *engine.Engine) error {
				if output == "" {
					return e.Images.Save(cmd.Context(), w, args, format)
				}
				// As docker save -o: a temporary file beside output
				// (mode 0600), renamed over it once whole.
				return atomicfile.WriteFunc(output, func(w io.Writer) error {
					return e.Images.Save(cmd.Context(), w, args, format)
				})
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to a file instead of standard output")
	cmd.Flags().StringVar(&format, "format", image.FormatDocker, `archive format: "docker" or "oci"`)
	return cmd
}

func newImageLoad(g *globals) *cobra.Command {
	var input string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load images from a tar archive (docker save or OCI layout, plain or gzipped)",
		RunE: func(cmd *cobra.Command, args []string) error {
			out := newProgress(outOrDiscard(cmd, quiet))
			return g.withEngine(func(e *engine.Engine) error {
				r, closeFn, err := openInput(cmd, input)
				if err != nil {
					return err
				}
				defer closeFn()
				imgs, err := e.Images.Load(cmd.Context(), r, out.pull)
				if err != nil {
					return err
				}
				for _, img := range imgs {
					if img.Ref != "" {
						fmt.Fprintf(cmd.OutOrStdout(), "Loaded image: %s\n", img.Ref)
					} else {
						fmt.Fprintf(cmd.OutOrStdout(), "Loaded image ID: %s\n", img.ID)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "read from a tar archive file instead of standard input")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "suppress the load output")
	return cmd
}
