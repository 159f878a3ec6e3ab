package spec

import (
	"maps"
	"slices"
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"
	units "github.com/docker/go-units"
)

// Logging is how a service's containers keep their output: Docker's
// logging driver, json-file (the default), local or none, with the
// options both file drivers take. Nil is json-file without options
// (berth's default rotation), so stacks that only name json-file keep
// their config hash.
type Logging struct {
	Driver   string `json:"driver,omitempty"`   // "json-file", "local" or "none"
	MaxSize  int64  `json:"max_size,omitempty"` // bytes per file before it rotates; 0: not set
	MaxFiles int    `json:"max_file,omitempty"` // files kept, the current one included; 0: not set
	Compress *bool  `json:"compress,omitempty"` // gzip the rotated files; nil: the driver's default
}

// logOptions are the options of the file drivers berth implements.
var logOptions = []string{"max-size", "max-file", "compress"}

// convertLogging checks and parses a service's logging, as Docker's
// json-file and local drivers validate their options.
func convertLogging(l *types.LoggingConfig, ps *problems, at func(...string) []string) *Logging {
	if l == nil {
		return nil
	}
	out := Logging{Driver: l.Driver}
	switch l.Driver {
	case "", "json-file":
		out.Driver = "json-file"
	case "local", "none":
	default:
		ps.unsupported("logging driver "+l.Driver+` (berth has "json-file", "local" and "none")`, at("logging", "driver")...)
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(l.Options)) {
		v := l.Options[k]
		if out.Driver == "none" || !slices.Contains(logOptions, k) {
			ps.unsupported("logging option "+k+" of driver "+out.Driver, at("logging", "options", k)...)
			continue
		}
		switch k {
		case "max-size":
			n, err := units.FromHumanSize(v)
			if err != nil || n <= 0 {
				ps.invalid("logging option max-size "+strconv.Quote(v)+" must be a positive size such as 10m", at("logging", "options", k)...)
			}
			out.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				ps.invalid("logging option max-file "+strconv.Quote(v)+" cannot be less than 1", at("logging", "options", k)...)
			}
			out.MaxFiles = n
		case "compress":
			b, err := strconv.ParseBool(v)
			if err != nil {
				ps.invalid("logging option compress "+strconv.Quote(v)+" must be true or false", at("logging", "options", k)...)
			}
			out.Compress = &b
		}
	}
	// json-file: without max-size there is one file that never rotates.
	if out.Driver == "json-file" && out.Compress != nil && *out.Compress && (out.MaxFiles < 2 || out.MaxSize == 0) {
		ps.invalid("logging option compress cannot be true when max-file is less than 2 or max-size is not set", at("logging", "options", "compress")...)
	}
	if out == (Logging{Driver: "json-file"}) {
		return nil
	}
	return &out
}
