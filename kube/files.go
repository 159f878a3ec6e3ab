package kube

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/spec"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
)

// fileKey is the key of the content in every ConfigMap and Secret berth
// renders.
const fileKey = "content"

// fileObject is the name of the ConfigMap (kind "configs") or Secret
// ("secrets") holding source key: "<project>-<key>", or its own name when
// it is external.
func (r *renderer) fileObject(sources map[string]spec.FileSource, kind, key string) (string, bool) {
	src := sources[key]
	if !src.External {
		return r.objectName(key, kind, key)
	}
	if errs := content.IsDNS1123Subdomain(src.Name); len(errs) > 0 {
		r.refuse(fmt.Sprintf("external %s %q is not a Kubernetes name: %s", kind[:len(kind)-1], src.Name, strings.Join(errs, "; ")), kind, key)
		return "", false
	}
	return src.Name, true
}

// files renders a ConfigMap per config and a Secret per secret that is
// not external, holding its content (a Secret's in data, never
// stringData, which server-side apply cannot merge).
func (r *renderer) files() {
	for _, key := range slices.Sorted(maps.Keys(r.p.Configs)) {
		src := r.p.Configs[key]
		if src.External {
			continue
		}
		data, ok := r.content(src, "configs", key)
		name, named := r.objectName(key, "configs", key)
		if !ok || !named {
			continue
		}
		cm := &corev1.ConfigMap{TypeMeta: typeMeta("v1", "ConfigMap"), ObjectMeta: r.meta(name, "")}
		cm.BinaryData = map[string][]byte{fileKey: data}
		if isText(data) {
			cm.BinaryData, cm.Data = nil, map[string]string{fileKey: string(data)}
		}
		r.add(newObject(cm))
	}
	for _, key := range slices.Sorted(maps.Keys(r.p.Secrets)) {
		src := r.p.Secrets[key]
		if src.External {
			continue
		}
		data, ok := r.content(src, "secrets", key)
		name, named := r.objectName(key, "secrets", key)
		if !ok || !named {
			continue
		}
		r.add(newObject(&corev1.Secret{TypeMeta: typeMeta("v1", "Secret"), ObjectMeta: r.meta(name, ""),
			Type: corev1.SecretTypeOpaque, Data: map[string][]byte{fileKey: data}}))
	}
}

// content reads a config's or secret's content from its file, variable or
// inline text.
func (r *renderer) content(src spec.FileSource, kind, key string) ([]byte, bool) {
	switch {
	case src.External:
		return nil, true
	case src.File != "":
		b, err := r.o.ReadFile(src.File)
		if err != nil {
			r.refuse(fmt.Sprintf("reading %s: %v", src.File, err), kind, key, "file")
			return nil, false
		}
		return b, true
	case src.Environment != "":
		v, ok := r.p.LookupEnv(src.Environment)
		if !ok {
			r.refuse("variable "+src.Environment+" is not set", kind, key, "environment")
			return nil, false
		}
		return []byte(v), true
	}
	return []byte(src.Content), true
}

// isText reports whether data can go in a ConfigMap's data (UTF-8 text).
func isText(data []byte) bool {
	return strings.ToValidUTF8(string(data), "\uFFFD") == string(data)
}
