package kube

import (
	"fmt"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Labels berth puts on every object it renders: the project label is how
// down and the prune find what berth applied.
const (
	LabelProject   = "berth.dev/project"
	LabelService   = "berth.dev/service"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// FieldManager is the server-side apply field manager of every apply.
	FieldManager = "berth"
)

// kindInfo is what berth knows of one kind it renders.
type kindInfo struct {
	gvr   schema.GroupVersionResource
	short string // the name plans and file names use: "deployment", "pvc"
	order int    // apply order: what others use first
}

// kinds are the kinds the mapping renders, by Kind.
var kinds = map[string]kindInfo{
	"ConfigMap":             {schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "configmap", 0},
	"Secret":                {schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "secret", 1},
	"PersistentVolumeClaim": {schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, "pvc", 2},
	"ServiceAccount":        {schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, "serviceaccount", 3},
	"Role":                  {schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}, "role", 4},
	"RoleBinding":           {schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, "rolebinding", 5},
	"NetworkPolicy":         {schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}, "networkpolicy", 6},
	"Service":               {schema.GroupVersionResource{Version: "v1", Resource: "services"}, "service", 7},
	"Job":                   {schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, "job", 8},
	"StatefulSet":           {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, "statefulset", 9},
	"Deployment":            {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "deployment", 10},
}

// Kinds are the kinds berth renders, in apply order: down and the prune
// look at these only.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return kinds[out[i]].order < kinds[out[j]].order })
	return out
}

// Object is one rendered Kubernetes object.
type Object struct {
	*unstructured.Unstructured
}

// Ref names an object in plans: "deployment web".
func (o Object) Ref() string { return kinds[o.GetKind()].short + " " + o.GetName() }

// FileName is the name render writes the object to: "deployment-web.yaml".
func (o Object) FileName() string { return kinds[o.GetKind()].short + "-" + o.GetName() + ".yaml" }

// Resource is the object's API resource.
func (o Object) Resource() schema.GroupVersionResource { return kinds[o.GetKind()].gvr }

// YAML is the object's manifest (keys sorted; YAML 1.1, so values like
// "y" and "on" are quoted).
func (o Object) YAML() ([]byte, error) {
	b, err := yaml.Marshal(o.Object)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", o.Ref(), err)
	}
	return b, nil
}

// newObject turns a typed object into an Object without the fields a
// manifest leaves to the server (status, null timestamps).
func newObject(typed runtime.Object) Object {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
	if err != nil {
		// Only a type the converter cannot reflect fails; every object
		// here is a k8s.io/api struct.
		panic(fmt.Sprintf("kube: converting %T: %v", typed, err))
	}
	delete(m, "status")
	dropNulls(m)
	return Object{&unstructured.Unstructured{Object: m}}
}

// dropNulls removes null values, which typed structs leave for unset
// pointers and timestamps.
func dropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			dropNulls(e)
		}
	case []any:
		for _, e := range t {
			dropNulls(e)
		}
	}
}

// sortObjects puts objects in apply order, then by name.
func sortObjects(objs []Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := kinds[objs[i].GetKind()].order, kinds[objs[j].GetKind()].order
		if a != b {
			return a < b
		}
		return strings.Compare(objs[i].GetName(), objs[j].GetName()) < 0
	})
}

// Manifests is every object's manifest as one YAML stream, in order.
func Manifests(objs []Object) ([]byte, error) {
	var out []byte
	for i, o := range objs {
		b, err := o.YAML()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, b...)
	}
	return out, nil
}
