package compose

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// psFilter is what `ps --filter` and `--status` keep: containers in one
// of the states (all when none is named; naming any lists stopped
// containers too, as Compose does) and carrying the label.
type psFilter struct {
	statuses          []string
	label, labelValue string
	labelHasValue     bool
}

// parsePsFilter reads ps's --filter KEY=VALUE (status or label) and its
// --status flags.
func parsePsFilter(filter string, statuses []string) (psFilter, error) {
	f := psFilter{statuses: statuses}
	if filter == "" {
		return f, nil
	}
	key, val, ok := strings.Cut(filter, "=")
	if !ok {
		return f, fmt.Errorf("--filter %q: arguments to --filter should be in form KEY=VAL", filter)
	}
	switch key {
	case "status":
		f.statuses = append(f.statuses, val)
	case "label":
		f.label, f.labelValue, f.labelHasValue = strings.Cut(val, "=")
		if f.label == "" {
			return f, fmt.Errorf("--filter %q: no label name", filter)
		}
	default:
		return f, fmt.Errorf("--filter %q: unknown filter %s (ps filters by status or label)", filter, key)
	}
	return f, nil
}

// keeps reports whether container c passes the filter.
func (f psFilter) keeps(c engine.ContainerView) bool {
	if len(f.statuses) > 0 && !slices.Contains(f.statuses, string(c.State)) {
		return false
	}
	if f.label == "" {
		return true
	}
	v, ok := c.Labels[f.label]
	return ok && (!f.labelHasValue || v == f.labelValue)
}

// joinLabels is labels as Docker's listings print them: "k=v" joined by
// commas, in key order (Docker's is map order).
func joinLabels(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}
