package reconcile

import (
	"encoding/json"
	"fmt"

	"github.com/berth-dev/berth/spec"
)

// RecordedSource is where one of a container's configs or secrets came
// from, as the container records it to write the file again after a
// reboot empties the run root: a file's path, a config's inline content,
// or only the name of an environment variable. A secret's content and a
// variable's value are never recorded.
type RecordedSource struct {
	File        string  `json:"file,omitempty"`
	Content     *string `json:"content,omitempty"` // a config's inline content
	Environment string  `json:"environment,omitempty"`
}

// Sources are the sources of cs's configs and secrets, keyed as Contents
// ("config app_conf").
func Sources(cs ContainerSpec) map[string]RecordedSource {
	out := map[string]RecordedSource{}
	for kind, set := range map[string]map[string]spec.FileSource{"config": cs.Configs, "secret": cs.Secrets} {
		for key, src := range set {
			if src.External {
				continue
			}
			r := RecordedSource{File: src.File, Environment: src.Environment}
			if kind == "config" && src.File == "" && src.Environment == "" {
				r.Content = &src.Content
			}
			out[kind+" "+key] = r
		}
	}
	return out
}

// EncodeSources is the label value of sources, "" when there are none.
func EncodeSources(sources map[string]RecordedSource) string {
	if len(sources) == 0 {
		return ""
	}
	b, _ := json.Marshal(sources) // maps of strings: cannot fail
	return string(b)
}

// ParseSources reads what EncodeSources wrote; nil for a container that
// recorded none or a label that is not berth's (its files then cannot be
// written again).
func ParseSources(label string) map[string]RecordedSource {
	var out map[string]RecordedSource
	if json.Unmarshal([]byte(label), &out) != nil {
		return nil
	}
	return out
}

// unrestorable says why the config and secret files of container c, whose
// spec as the project records it is cs, cannot be written again as c had
// them, "" when they can: each needs a recorded file or inline config
// source whose content still has the digest c recorded.
func unrestorable(c Container, cs *ContainerSpec) string {
	for _, set := range []struct {
		kind    string
		refs    []spec.FileRef
		sources map[string]spec.FileSource
	}{{"config", c.Spec.Configs, cs.Configs}, {"secret", c.Spec.Secrets, cs.Secrets}} {
		for _, r := range set.refs {
			src, name := set.sources[r.Source], set.kind+" "+r.Source
			switch {
			case src.Environment != "":
				return fmt.Sprintf("%s comes from environment variable %s, whose value berth does not keep", name, src.Environment)
			case src.File == "" && src.Digest == "" && set.kind == "secret":
				return fmt.Sprintf("%s has no recorded file source, and berth keeps no secret's content", name)
			case src.File == "" && src.Digest == "":
				return fmt.Sprintf("%s has no recorded source", name)
			case src.Digest == "":
				return fmt.Sprintf("%s: its file %s is gone or unreadable", name, src.File)
			case c.Contents[name] == "":
				return fmt.Sprintf("%s has no recorded content digest to check", name)
			case src.Digest != c.Contents[name]:
				return fmt.Sprintf("%s changed since the container was made", name)
			}
		}
	}
	return ""
}
