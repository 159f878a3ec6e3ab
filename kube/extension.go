package kube

import (
	"fmt"
	"slices"
	"sort"
)

// ExtensionKey is the extension berth's Kubernetes mapping reads: on a
// service, `kind` (Deployment, StatefulSet or Job); on a volume, `size`.
const ExtensionKey = "x-kube"

// extension reads the x-kube keys of a service or volume, refusing keys it
// does not know and values of the wrong type.
func (r *renderer) extension(kind, name string, known ...string) map[string]string {
	raw := r.p.Extension(kind, name, ExtensionKey)
	if raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		r.refuse(ExtensionKey+" must be a mapping", kind, name, ExtensionKey)
		return nil
	}
	out := map[string]string{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			r.refuse(fmt.Sprintf("%s.%s is not a key berth knows (known: %v)", ExtensionKey, k, known), kind, name, ExtensionKey, k)
			continue
		}
		s, ok := m[k].(string)
		if !ok {
			r.refuse(fmt.Sprintf("%s.%s must be a string", ExtensionKey, k), kind, name, ExtensionKey, k)
			continue
		}
		out[k] = s
	}
	return out
}
