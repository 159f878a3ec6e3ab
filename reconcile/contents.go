package reconcile

import (
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/spec"
)

// Contents are the digests of the config and secret contents a container
// uses, keyed "config NAME" or "secret NAME", and of its read-only binds
// declared as configuration, keyed "bind ./conf". A container records them
// beside its config hash, so a change of content alone recreates exactly
// the containers that use it. Only digests are kept, never contents.
func Contents(cs ContainerSpec) map[string]string {
	out := map[string]string{}
	for kind, set := range map[string]map[string]spec.FileSource{"config": cs.Configs, "secret": cs.Secrets} {
		for key, src := range set {
			if src.Digest != "" {
				out[kind+" "+key] = src.Digest
			}
		}
	}
	for _, w := range cs.Watched {
		if w.Digest != "" {
			out[w.Key] = w.Digest
		}
	}
	return out
}

// EncodeContents is the label value of contents: "KEY=DIGEST" sorted and
// joined with ";", "" when there are none.
func EncodeContents(contents map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(contents)) {
		parts = append(parts, k+"="+contents[k])
	}
	return strings.Join(parts, ";")
}

// ParseContents reads what EncodeContents wrote; nil for a container that
// recorded none (made by an older berth: it is not recreated for them).
func ParseContents(label string) map[string]string {
	if label == "" {
		return nil
	}
	out := map[string]string{}
	for part := range strings.SplitSeq(label, ";") {
		if k, v, ok := strings.Cut(part, "="); ok {
			out[k] = v
		}
	}
	return out
}

// contentChange names the configs, secrets and watched binds whose content
// differs from what container c recorded: "config app_conf: content
// changed", "bind ./conf: content changed"; "" when
// none does or c recorded nothing.
func contentChange(c Container, cs *ContainerSpec) string {
	if c.Contents == nil {
		return ""
	}
	want := Contents(*cs)
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if had, ok := c.Contents[k]; ok && had != want[k] {
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return ""
	}
	return strings.Join(changed, ", ") + ": content changed"
}
