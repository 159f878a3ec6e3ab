package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// exposedPorts reads one `expose:` entry ("80", "80/udp", "8000-8002")
// into its ports as Docker lists them: "80/tcp", "80/udp", "8000/tcp", ...
func exposedPorts(x string) ([]string, error) {
	spec, proto, ok := strings.Cut(x, "/")
	if !ok {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, fmt.Errorf("expose %q: protocol %q is not tcp, udp or sctp", x, proto)
	}
	lo, hi, ranged := strings.Cut(spec, "-")
	first, err := strconv.ParseUint(lo, 10, 16)
	last := first
	if err == nil && ranged {
		last, err = strconv.ParseUint(hi, 10, 16)
	}
	if err != nil || first == 0 || last < first {
		return nil, fmt.Errorf("expose %q: not a port or a range of ports", x)
	}
	var out []string
	for p := first; p <= last; p++ {
		out = append(out, fmt.Sprintf("%d/%s", p, proto))
	}
	return out, nil
}
