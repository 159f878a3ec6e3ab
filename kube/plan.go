package kube

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Action is what a plan does to one object.
type Action string

// Actions of a plan.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
	// Replace deletes an object and creates it again: its change cannot
	// be made in place.
	Replace Action = "replace"
)

var symbols = map[Action]string{Create: "+", Update: "~", Delete: "-", Replace: "-/+"}

// Change is one step of a plan, with its reason.
type Change struct {
	Action Action `json:"action"`
	Target string `json:"target"` // "deployment web"
	Reason string `json:"reason"`
	Object Object `json:"-"` // what is applied (create, update) or deleted (delete: the live object)
}

// Plan is what up --kube would change in the namespace, in order: the
// objects to apply in apply order, then the deletions in reverse order.
type Plan struct {
	Changes []Change `json:"changes"`
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return len(p.Changes) == 0 }

// String is the plan's text form, as the host plan's: a line per change
// with its reason, and a summary line.
func (p Plan) String() string {
	if p.Empty() {
		return "Nothing to do: the project is up to date.\n"
	}
	var b strings.Builder
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "%s %s %s (%s)\n", symbols[c.Action], c.Action, c.Target, c.Reason)
	}
	return b.String() + "Plan: " + p.Summary() + ".\n"
}

// Summary counts the plan's changes by action: "1 to create, 0 to
// update, 0 to delete" (replacements only when there are some).
func (p Plan) Summary() string {
	n := map[Action]int{}
	for _, c := range p.Changes {
		n[c.Action]++
	}
	s := fmt.Sprintf("%d to create, %d to update, ", n[Create], n[Update])
	if n[Replace] > 0 {
		s += fmt.Sprintf("%d to replace, ", n[Replace])
	}
	return s + fmt.Sprintf("%d to delete", n[Delete])
}

// PlanApply decides what applying desired changes, from what the cluster
// holds (obs) and what a server-side dry run of each desired object gives
// (dry): a create for what is absent, an update naming the fields
// that change for what differs from the live object, a replace for what
// the server cannot change in place, and a delete for
// each object of the project that berth applied and no longer declares.
// An object of the same name that belongs to another project is refused.
func PlanApply(project string, desired []Object, obs Observed, dry DryRuns) (Plan, error) {
	var p Plan
	declared := map[string]bool{}
	for _, d := range desired {
		declared[d.Ref()] = true
		live, exists := obs.Live[d.Ref()]
		if !exists {
			p.Changes = append(p.Changes, Change{Action: Create, Target: d.Ref(), Reason: "not in the cluster", Object: d})
			continue
		}
		if owner := live.GetLabels()[LabelProject]; owner != "" && owner != project {
			return Plan{}, fmt.Errorf("%s belongs to project %q, not %q", d.Ref(), owner, project)
		}
		if why, ok := dry.Replace[d.Ref()]; ok {
			p.Changes = append(p.Changes, Change{Action: Replace, Target: d.Ref(), Reason: why, Object: d})
			continue
		}
		after, ok := dry.Objects[d.Ref()]
		if !ok {
			return Plan{}, fmt.Errorf("%s has no dry run", d.Ref())
		}
		if diffs := Diff(live, after); len(diffs) > 0 {
			p.Changes = append(p.Changes, Change{Action: Update, Target: d.Ref(), Reason: reason(diffs), Object: d})
		}
	}
	p.Changes = append(p.Changes, prune(obs.Labelled, declared)...)
	return p, nil
}

// PlanDown deletes every object of the project that berth applied.
func PlanDown(obs Observed) Plan {
	return Plan{Changes: prune(obs.Labelled, nil)}
}

// prune deletes, in reverse apply order, the labelled objects berth
// applied (its field manager) that are not declared; an object another
// manager made with the label is left alone.
func prune(labelled []Object, declared map[string]bool) []Change {
	var out []Change
	for i := len(labelled) - 1; i >= 0; i-- {
		o := labelled[i]
		if declared[o.Ref()] || !managedByBerth(o.Unstructured) {
			continue
		}
		out = append(out, Change{Action: Delete, Target: o.Ref(), Reason: "no longer in the stack", Object: o})
	}
	return out
}

// reason says which fields an update changes, the first three of them.
func reason(diffs []string) string {
	if len(diffs) <= 3 {
		return strings.Join(diffs, "; ")
	}
	return strings.Join(diffs[:3], "; ") + fmt.Sprintf("; and %d more", len(diffs)-3)
}

// Diff lists the fields that differ between two copies of an object, as
// "spec.ports[0].port: 80 → 8080", leaving out what the server keeps for
// itself (status, resource versions, managed fields, timestamps).
func Diff(before, after Object) []string {
	a, b := comparable(before), comparable(after)
	var out []string
	diff("", a, b, &out)
	return out
}

// comparable is an object without what changes at every write.
func comparable(o Object) map[string]any {
	m := o.DeepCopy().Object
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "namespace"} {
			delete(meta, k)
		}
		if ann, ok := meta["annotations"].(map[string]any); ok {
			delete(ann, "deployment.kubernetes.io/revision")
			if len(ann) == 0 {
				delete(meta, "annotations")
			}
		}
	}
	return m
}

func diff(path string, a, b any, out *[]string) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := slices.Sorted(maps.Keys(av))
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range slices.Compact(keys) {
			diff(join(path, k), av[k], bv[k], out)
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			break
		}
		for i := range av {
			diff(path+"["+strconv.Itoa(i)+"]", av[i], bv[i], out)
		}
		return
	}
	if show(a) != show(b) {
		*out = append(*out, path+": "+show(a)+" → "+show(b))
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// show is a value in a plan line: JSON, cut when long, "(none)" when absent.
func show(v any) string {
	if v == nil {
		return "(none)"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
