package kube

import (
	"context"
	"fmt"
	"sort"

	"golang.org/x/sync/errgroup"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ConnectOptions say which cluster and namespace to use, as kubectl does:
// the kubeconfig of KUBECONFIG (or ~/.kube/config, or the in-cluster
// configuration), its current context unless Context names another, and
// the context's namespace unless Namespace names another.
type ConnectOptions struct {
	Kubeconfig string // a file instead of KUBECONFIG's
	Context    string
	Namespace  string
}

// Cluster is one namespace of a cluster, reached through client-go.
type Cluster struct {
	dyn       dynamic.Interface
	Namespace string
}

// Connect reads the configuration o names; it does not contact the cluster.
func Connect(o ConnectOptions) (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	cfg := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: o.Context, Context: clientcmdapi.Context{Namespace: o.Namespace}})
	rc, err := cfg.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	ns, _, err := cfg.Namespace()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig's namespace: %w", err)
	}
	return NewCluster(rc, ns)
}

// NewCluster is a Cluster of an explicit REST configuration.
func NewCluster(rc *rest.Config, namespace string) (*Cluster, error) {
	rc = rest.CopyConfig(rc)
	rc.QPS, rc.Burst = 100, 200 // a plan reads every kind at once
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("creating a Kubernetes client: %w", err)
	}
	if namespace == "" {
		namespace = "default"
	}
	return &Cluster{dyn: dyn, Namespace: namespace}, nil
}

// Observed is what a cluster holds of one project: every object of the
// kinds berth renders labelled with the project, and the live copy of
// each object the project declares (nil when absent).
type Observed struct {
	Labelled []Object          // by the project label, in apply order
	Live     map[string]Object // key: Ref of a desired object
}

// Observe reads what the namespace holds of project for desired.
func (c *Cluster) Observe(ctx context.Context, project string, desired []Object) (Observed, error) {
	obs := Observed{Live: map[string]Object{}}
	sel := metav1.ListOptions{LabelSelector: LabelProject + "=" + project}
	all := Kinds()
	found := make([][]Object, len(all))
	var g errgroup.Group
	for i, kind := range all {
		g.Go(func() error {
			list, err := c.dyn.Resource(kinds[kind].gvr).Namespace(c.Namespace).List(ctx, sel)
			if err != nil {
				return fmt.Errorf("listing %ss of project %s: %w", kinds[kind].short, project, err)
			}
			for j := range list.Items {
				if list.Items[j].GetDeletionTimestamp() != nil {
					continue // going already
				}
				o := Object{&list.Items[j]}
				o.SetKind(kind) // lists leave it to the list
				found[i] = append(found[i], o)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Observed{}, err
	}
	for _, objs := range found {
		obs.Labelled = append(obs.Labelled, objs...)
	}
	sortObjects(obs.Labelled)
	byRef := map[string]Object{}
	for _, o := range obs.Labelled {
		byRef[o.Ref()] = o
	}
	for _, d := range desired {
		if live, ok := byRef[d.Ref()]; ok {
			obs.Live[d.Ref()] = live
			continue
		}
		live, err := c.dyn.Resource(d.Resource()).Namespace(c.Namespace).Get(ctx, d.GetName(), metav1.GetOptions{})
		if err == nil && live.GetDeletionTimestamp() != nil {
			return Observed{}, fmt.Errorf("%s is being deleted: try again when it is gone", d.Ref())
		}
		if err == nil {
			live.SetKind(d.GetKind())
			obs.Live[d.Ref()] = Object{live}
		} else if !notFound(err) {
			return Observed{}, fmt.Errorf("reading %s: %w", d.Ref(), err)
		}
	}
	return obs, nil
}

// apply server-side applies o with berth's field manager, as a dry run
// when dryRun; force takes the fields other managers own.
func (c *Cluster) apply(ctx context.Context, o Object, dryRun, force bool) (Object, error) {
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	body := o.DeepCopy()
	body.SetNamespace(c.Namespace)
	out, err := c.dyn.Resource(o.Resource()).Namespace(c.Namespace).Apply(ctx, o.GetName(), body, opts)
	if err != nil {
		return Object{}, fmt.Errorf("applying %s: %w", o.Ref(), err)
	}
	return Object{out}, nil
}

// remove deletes o, with its dependents in the background, only while it
// is still the object observed (its UID), and waits until it is gone (a
// claim waits for the pods that use it), as kubectl delete does.
func (c *Cluster) remove(ctx context.Context, o Object) error {
	bg := metav1.DeletePropagationBackground
	uid := types.UID(o.GetUID())
	err := c.dyn.Resource(o.Resource()).Namespace(c.Namespace).Delete(ctx, o.GetName(),
		metav1.DeleteOptions{PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &uid}})
	if notFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s: %w", o.Ref(), err)
	}
	return c.waitGone(ctx, o)
}

// managedByBerth reports whether berth's field manager applied o.
func managedByBerth(o *unstructured.Unstructured) bool {
	for _, m := range o.GetManagedFields() {
		if m.Manager == FieldManager && m.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

// sortedKeys are a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
