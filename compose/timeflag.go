package compose

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file reads the time forms Docker's --since and --until take.

// timeFlag reads a --since or --until of events or logs; "" is unset
// (the zero time).
func timeFlag(flag, value string, now time.Time) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	t, err := parseDockerTime(value, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid value for --%s: %w", flag, err)
	}
	return t, nil
}

// parseDockerTime reads a time as docker events' --since and --until take
// it (and docker logs'): a Go duration meaning that long before now ("10m"), an RFC 3339
// date or time (in the local zone when it names none, its fields from the
// date down), or Unix seconds with an optional fraction.
func parseDockerTime(value string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(value); value != "0" && err == nil {
		return time.Unix(now.Add(-d).Unix(), 0), nil // whole seconds, as Docker's
	}
	local := !strings.ContainsAny(value, "zZ+") && strings.Count(value, "-") != 3
	layout := dateLayout(value, local)
	var t time.Time
	var err error
	if local {
		t, err = time.ParseInLocation(layout, value, now.Location())
	} else {
		t, err = time.Parse(layout, value)
	}
	if err == nil {
		return t, nil
	}
	if strings.Contains(value, "-") {
		return time.Time{}, err // a date the parser refused
	}
	if t, ok := unixTime(value); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("failed to parse value as time or duration: %q", value)
}

// dateLayout is the layout Docker reads an RFC 3339 value with: with a
// fraction, with the time's fields it has, or a date alone; with a zone
// unless local.
func dateLayout(value string, local bool) string {
	zone := "Z07:00"
	if local {
		zone = ""
	}
	switch {
	case strings.Contains(value, "."):
		return "2006-01-02T15:04:05.999999999" + zone
	case strings.Contains(value, "T"):
		colons := strings.Count(value, ":")
		if !local && !strings.ContainsAny(value, "zZ") && colons > 0 {
			colons-- // the zone's offset has one
		}
		return []string{"2006-01-02T15", "2006-01-02T15:04", "2006-01-02T15:04:05"}[min(colons, 2)] + zone
	default:
		return "2006-01-02" + zone
	}
}

// unixTime reads Unix seconds with an optional fraction ("1700000000.5").
func unixTime(value string) (time.Time, bool) {
	secs, frac, dotted := strings.Cut(value, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	if dotted {
		if len(frac) == 0 || len(frac) > 9 {
			return time.Time{}, false
		}
		if ns, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(s, ns), true
}
