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
// changed", "bind ./conf: content changed"; "" when none does or c
// recorded nothing. bindsOnly says only watched binds changed: their
// content is mounted, not copied, so a restart gives the container the new
// content, where a config or a secret needs a new container.
func contentChange(c Container, cs *ContainerSpec) (reason string, bindsOnly bool) {
	if c.Contents == nil {
		return "", false
	}
	want := Contents(*cs)
	var changed []string
	bindsOnly = true
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if had, ok := c.Contents[k]; ok && had != want[k] {
			changed = append(changed, k)
			bindsOnly = bindsOnly && strings.HasPrefix(k, "bind ")
		}
	}
	if len(changed) == 0 {
		return "", false
	}
	return strings.Join(changed, ", ") + ": content changed", bindsOnly
}

// planRecordContents plans, after d's container is stopped and started
// again (or only stopped, or left stopped), that it records the digests
// of the contents it now mounts, so the next plan finds it as wanted.
func (pl *planner) planRecordContents(d decision) {
	if d.contents == "" {
		return
	}
	a := Action{ID: "record-contents:" + d.spec.Name, Kind: RecordContents, Target: d.spec.Name, Service: d.svc.Name,
		Reason: d.contents, Container: d.spec}
	pl.after(&a, "start:"+d.spec.Name)
	if len(a.After) == 0 {
		pl.after(&a, "stop:"+d.spec.Name)
	}
	pl.add(a)
}
