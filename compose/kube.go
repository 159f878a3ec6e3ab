package compose

import (
	"github.com/spf13/cobra"
)

// KubeOptions are the Kubernetes flags of a command: where the cluster is
// and how the stack maps to it. Package kubecli translates them into
// package kube's options.
type KubeOptions struct {
	Kubeconfig, Context, Namespace string
	PublishedType, StorageClass    string
	VolumeSize, WaitImage          string
	AllowHostPath, ForceConflicts  bool
}

// defaultWaitImage is --wait-image's default: package kube's
// DefaultWaitImage (kubecli's tests keep the two equal; berth does not
// link package kube to read it).
const defaultWaitImage = "registry.k8s.io/kubectl:v1.37.2"

// renderFlags adds the flags of the mapping, shared by `kube render` and
// the --kube forms that apply (plan, up, reconcile).
func (k *KubeOptions) renderFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&k.Namespace, "namespace", "n", "", "namespace of the objects (default: the kubeconfig context's, none for render)")
	f.StringVar(&k.PublishedType, "published-type", "LoadBalancer", `Service type of services with published ports: "LoadBalancer" or "NodePort"`)
	f.StringVar(&k.StorageClass, "storage-class", "", "storage class of the volume claims (default: the cluster's)")
	f.StringVar(&k.VolumeSize, "volume-size", "1Gi", "size of a volume claim without x-kube.size")
	f.StringVar(&k.WaitImage, "wait-image", defaultWaitImage, "image (with kubectl) of the init containers that wait for dependencies")
	f.BoolVar(&k.AllowHostPath, "allow-hostpath", false, "map bind mounts to hostPath volumes instead of refusing them")
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
	var call KubeCall
	cmd := &cobra.Command{
		Use:   "render [OPTIONS]",
		Short: "Print the stack's Kubernetes objects, or write one file per object with -o",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			call.Command = "render"
			return g.runKube(cmd, call)
		},
	}
	call.Options.renderFlags(cmd)
	cmd.Flags().StringVarP(&call.Output, "output", "o", "", "directory to write one file per object to (created; files of objects no longer rendered are left)")
	return cmd
}
