package volume

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// ErrInvalidOption is wrapped by every error about a volume's driver_opts.
var ErrInvalidOption = errors.New("invalid volume driver option")

// Volume types of the local driver (driver_opts.type).
const (
	TypeNone  = "none"  // with o: bind and device: PATH, a host directory
	TypeTmpfs = "tmpfs" // a fresh tmpfs for each container using the volume
)

// Options are the local driver's driver_opts. The zero value is a plain
// volume: a directory under berth's root. {Type: "none", O: "bind", Device:
// PATH} is an existing host directory; {Type: "tmpfs", O: "size=64m,mode=1777"}
// is a tmpfs.
type Options struct {
	Type   string `json:"type,omitempty"`
	O      string `json:"o,omitempty"`
	Device string `json:"device,omitempty"`
}

// IsZero reports whether o is a plain volume.
func (o Options) IsZero() bool { return o == Options{} }

// String renders o the way a compose file spells it, for messages.
func (o Options) String() string {
	if o.IsZero() {
		return "{}"
	}
	var parts []string
	for _, kv := range [][2]string{{"type", o.Type}, {"o", o.O}, {"device", o.Device}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+": "+strconv.Quote(kv[1]))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Validate reports every problem of o at once, each naming its option; the
// error wraps ErrInvalidOption. A bind device must be an existing
// directory, so Validate reads the file system for it.
func (o Options) Validate() error {
	var errs []error
	bad := func(opt, format string, args ...any) {
		errs = append(errs, fmt.Errorf("driver_opts.%s: %s: %w", opt, fmt.Sprintf(format, args...), ErrInvalidOption))
	}
	switch o.Type {
	case "":
		if o.O != "" {
			bad("o", "%q needs a type (none or tmpfs)", o.O)
		}
		if o.Device != "" {
			bad("device", "%q needs type: none and o: bind", o.Device)
		}
	case TypeNone:
		if !hasFlag(o.O, "bind") && !hasFlag(o.O, "rbind") {
			bad("o", "type none needs o: bind, got %q", o.O)
		}
		for _, f := range splitOpts(o.O) {
			if !bindOpts[f] {
				bad("o", "unknown option %q for a bind volume (known: bind, rbind, ro, rw)", f)
			}
		}
		if err := checkDevice(o.Device); err != nil {
			bad("device", "%v", err)
		}
	case TypeTmpfs:
		for _, f := range splitOpts(o.O) {
			if err := checkTmpfsOpt(f); err != nil {
				bad("o", "%v", err)
			}
		}
	default:
		bad("type", "%q is not supported by the local driver (supported: none with o: bind, tmpfs)", o.Type)
	}
	return errors.Join(errs...)
}

// checkDevice checks a bind volume's host directory.
func checkDevice(dev string) error {
	if dev == "" {
		return errors.New("missing: a bind volume needs device: /host/path")
	}
	if !filepath.IsAbs(dev) {
		return fmt.Errorf("%q is not an absolute path", dev)
	}
	fi, err := os.Stat(dev)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%q does not exist", dev)
	case err != nil:
		return fmt.Errorf("checking %q: %v", dev, err)
	case !fi.IsDir():
		return fmt.Errorf("%q is not a directory", dev)
	}
	return nil
}

var bindOpts = map[string]bool{"bind": true, "rbind": true, "ro": true, "rw": true}

// tmpfsFlags are the flag options a tmpfs volume may carry.
var tmpfsFlags = map[string]bool{
	"ro": true, "rw": true, "exec": true, "noexec": true, "suid": true, "nosuid": true,
	"dev": true, "nodev": true, "atime": true, "noatime": true, "relatime": true,
	"norelatime": true, "strictatime": true, "nodiratime": true, "sync": true, "async": true,
}

var (
	sizeRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+[kKmMgGtT%]?$`) })
	countRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]+[kKmMgGtT]?$`) })
	hugeRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(never|always|within_size|advise|deny|force)$`) })
)

// checkTmpfsOpt checks one option of a tmpfs volume's o, as tmpfs(5)
// accepts it.
func checkTmpfsOpt(f string) error {
	if tmpfsFlags[f] {
		return nil
	}
	key, val, ok := strings.Cut(f, "=")
	if !ok {
		return fmt.Errorf("unknown tmpfs option %q", f)
	}
	valid := false
	switch key {
	case "size":
		valid = sizeRe().MatchString(val)
	case "nr_blocks", "nr_inodes":
		valid = countRe().MatchString(val)
	case "mode":
		m, err := strconv.ParseUint(val, 8, 32)
		valid = err == nil && m <= 0o7777
	case "uid", "gid":
		_, err := strconv.ParseUint(val, 10, 32)
		valid = err == nil
	case "huge":
		valid = hugeRe().MatchString(val)
	default:
		return fmt.Errorf("unknown tmpfs option %q", key)
	}
	if !valid {
		return fmt.Errorf("tmpfs option %s has a bad value %q", key, val)
	}
	return nil
}

// splitOpts splits a comma-separated o, dropping empty items.
func splitOpts(o string) []string {
	var out []string
	for _, f := range strings.Split(o, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func hasFlag(o, flag string) bool {
	for _, f := range splitOpts(o) {
		if f == flag {
			return true
		}
	}
	return false
}
