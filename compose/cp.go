package compose

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/engine"
)

// cpArgs are the parsed arguments of `cp`: which side is the service's.
type cpArgs struct {
	service  string
	from     bool   // SERVICE:SRC DEST, else SRC SERVICE:DEST
	src, dst string // the host side made absolute (or "-"), the container side as given
}

func newCpCommand(g *globals) *cobra.Command {
	var index int
	var all bool
	var o engine.CopyOptions
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n  berth cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH",
		Short: "Copy files/folders between a service container and the local filesystem",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := parseCpArgs(args[0], args[1])
			if err != nil {
				return err
			}
			s, err := g.view(cmd.Context())
			if err != nil {
				return err
			}
			defer s.close()
			names, err := s.engine.CopyTargets(cmd.Context(), s.project.Name, a.service, index, a.from, all)
			if err != nil {
				return err
			}
			var stdin []byte
			if a.src == "-" && len(names) > 1 { // one stream for every container
				if stdin, err = io.ReadAll(cmd.InOrStdin()); err != nil {
					return fmt.Errorf("reading the archive from stdin: %w", err)
				}
			}
			p := newProgress(cmd.ErrOrStderr())
			for _, name := range names {
				if a.from {
					err = s.engine.CopyFromContainer(cmd.Context(), name, a.src, a.dst, cmd.OutOrStdout(), o)
				} else {
					in := cmd.InOrStdin()
					if stdin != nil {
						in = bytes.NewReader(stdin)
					}
					err = s.engine.CopyToContainer(cmd.Context(), name, a.src, in, a.dst, o)
				}
				if err != nil {
					return err
				}
				p.set("copy:"+name, fmt.Sprintf("Container %s  Copied  %s", name, a.describe(name)))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&index, "index", 0, "index of the container if the service has several replicas")
	f.BoolVar(&all, "all", false, "include containers created by the run command")
	f.BoolVarP(&o.FollowLink, "follow-link", "L", false, "always follow symbol link in SRC_PATH")
	f.BoolVarP(&o.Archive, "archive", "a", false, "archive mode (copy all uid/gid information)")
	return cmd
}

// describe is the copy as Compose shows it, e.g. "web-1:/etc to ./etc".
func (a cpArgs) describe(name string) string {
	if a.from {
		return fmt.Sprintf("%s:%s to %s", name, a.src, a.dst)
	}
	return fmt.Sprintf("%s to %s:%s", a.src, name, a.dst)
}

// parseCpArgs finds the service side of `cp SRC DEST` and makes the host
// side absolute, keeping a trailing "/" or "/." that changes the copy.
func parseCpArgs(src, dst string) (cpArgs, error) {
	if src == "" {
		return cpArgs{}, errors.New("source can not be empty")
	}
	if dst == "" {
		return cpArgs{}, errors.New("destination can not be empty")
	}
	srcSvc, srcPath := splitCpArg(src)
	dstSvc, dstPath := splitCpArg(dst)
	var a cpArgs
	switch {
	case srcSvc != "" && dstSvc != "":
		return cpArgs{}, errors.New("copying between services is not supported")
	case srcSvc != "":
		a = cpArgs{service: srcSvc, from: true, src: srcPath, dst: dstPath}
		if a.dst == "-" {
			return a, nil
		}
		a.dst = localPath(dstPath)
	case dstSvc != "":
		a = cpArgs{service: dstSvc, src: srcPath, dst: dstPath}
		if a.src == "-" {
			return a, nil
		}
		a.src = localPath(srcPath)
	default:
		return cpArgs{}, errors.New("unknown copy direction: name a service, as SERVICE:PATH, on one side")
	}
	return a, nil
}

// splitCpArg splits "SERVICE:PATH"; an absolute path, or a relative one
// starting with ".", is local even with a colon in it.
func splitCpArg(arg string) (service, path string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	svc, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(svc, ".") {
		return "", arg
	}
	return svc, p
}

// localPath is p made absolute, keeping a trailing "/" or "/.".
func localPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p // the working directory is gone: the copy says so
	}
	switch {
	case p == "." || strings.HasSuffix(p, "/."):
		return abs + "/."
	case strings.HasSuffix(p, "/") && abs != "/":
		return abs + "/"
	}
	return abs
}
