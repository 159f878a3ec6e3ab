package network

import (
	"fmt"
	"strconv"
	"strings"
)

// parsePortRange parses "32768\t60999".
func parsePortRange(s string) (lo, hi uint16, err error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("local port range %q: %w", s, ErrInvalid)
	}
	a, err1 := strconv.ParseUint(f[0], 10, 16)
	b, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || a == 0 || a > b {
		return 0, 0, fmt.Errorf("local port range %q: %w", s, ErrInvalid)
	}
	return uint16(a), uint16(b), nil
}
