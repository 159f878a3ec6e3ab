package compose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/kube"
	"github.com/spf13/cobra"
)

// kubeFlags are the flags of the Kubernetes mapping, shared by `kube
// render` and the --kube forms of plan, up and down.
type kubeFlags struct {
	namespace, publishedType, storageClass, volumeSize, waitImage string
	allowHostPath                                                 bool
}

func (k *kubeFlags) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&k.namespace, "namespace", "n", "", "namespace of the objects (default: the kubeconfig context's, none for render)")
	f.StringVar(&k.publishedType, "published-type", "LoadBalancer", `Service type of services with published ports: "LoadBalancer" or "NodePort"`)
	f.StringVar(&k.storageClass, "storage-class", "", "storage class of the volume claims (default: the cluster's)")
	f.StringVar(&k.volumeSize, "volume-size", "1Gi", "size of a volume claim without x-kube.size")
	f.StringVar(&k.waitImage, "wait-image", kube.DefaultWaitImage, "image (with kubectl) of the init containers that wait for dependencies")
	f.BoolVar(&k.allowHostPath, "allow-hostpath", false, "map bind mounts to hostPath volumes instead of refusing them")
}

// options are the render options the flags ask for.
func (k *kubeFlags) options() kube.Options {
	return kube.Options{Namespace: k.namespace, PublishedType: k.publishedType, StorageClass: k.storageClass,
		VolumeSize: k.volumeSize, WaitImage: k.waitImage, AllowHostPath: k.allowHostPath}
}

func newKubeCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kube",
		Short: "Run the stack on Kubernetes: render its objects",
	}
	cmd.AddCommand(newKubeRenderCommand(g))
	return cmd
}

func newKubeRenderCommand(g *globals) *cobra.Command {
	var k kubeFlags
	var dir string
	cmd := &cobra.Command{
		Use:   "render [OPTIONS]",
		Short: "Print the stack's Kubernetes objects, or write one file per object with -o",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := g.loadProject(cmd.Context())
			if err != nil {
				return err
			}
			objs, err := kube.Render(p, k.options())
			if err != nil {
				return err
			}
			if dir == "" {
				b, err := kube.Manifests(objs)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return writeManifests(dir, objs)
		},
	}
	k.flags(cmd)
	cmd.Flags().StringVarP(&dir, "output", "o", "", "directory to write one file per object to (created; files of objects no longer rendered are left)")
	return cmd
}

// writeManifests writes each object to dir/<kind>-<name>.yaml.
func writeManifests(dir string, objs []kube.Object) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	var errs []error
	for _, o := range objs {
		b, err := o.YAML()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, o.FileName()), b, 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("writing %s: %w", o.Ref(), err))
		}
	}
	return errors.Join(errs...)
}
