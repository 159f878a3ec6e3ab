package compose

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-dev/berth/engine"
)

// psFilter is what `ps --filter` and `--status` keep: containers in one
// of the states (all when none is named; naming any lists stopped
// containers too, as Compose does), carrying the label, whose name
// matches the pattern (as docker ps's name filter, a regular expression)
// and of the service.
type psFilter struct {
	statuses          []string
	label, labelValue string
	labelHasValue     bool
	name              *regexp.Regexp
	service           string
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
	case "name":
		re, err := regexp.Compile(val)
		if err != nil {
			return f, fmt.Errorf("--filter %q: %w", filter, err)
		}
		f.name = re
	case "service":
		f.service = val
	default:
		return f, fmt.Errorf("--filter %q: unknown filter %s (ps filters by status, label, name or service)", filter, key)
	}
	return f, nil
}

// keeps reports whether container c passes the filter.
func (f psFilter) keeps(c engine.ContainerView) bool {
	if len(f.statuses) > 0 && !slices.Contains(f.statuses, string(c.State)) {
		return false
	}
	if f.name != nil && !f.name.MatchString(c.Name) || f.service != "" && c.Service != f.service {
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
