package runtime

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// LogConfig is how a container's output is kept: Docker's logging driver
// and the options of its file drivers. A nil LogConfig is json-file with
// berth's default rotation (logMaxSize, logMaxFiles).
type LogConfig struct {
	Driver   string // "json-file", "local" or "none"
	MaxSize  int64  // bytes per file before it rotates; 0: the driver's default
	MaxFiles int    // files kept, the current one included; 0: the driver's default
	Compress *bool  // gzip rotated files; nil: the driver's default
}

// Docker's local driver defaults.
const (
	localMaxSize  = 20 << 20
	localMaxFiles = 5
)

// logSettings are what the log writer does with a container's output.
type logSettings struct {
	discard  bool  // driver none: nothing is kept
	maxSize  int64 // -1: never rotate
	maxFiles int
	compress bool
}

// settings resolves c's driver defaults as Docker's drivers do: json-file
// without max-size keeps one file that never rotates, local rotates at
// 20 MB over 5 compressed files.
func (c *LogConfig) settings() logSettings {
	if c == nil {
		return logSettings{maxSize: logMaxSize, maxFiles: logMaxFiles}
	}
	s := logSettings{maxSize: c.MaxSize, maxFiles: c.MaxFiles}
	switch c.Driver {
	case "none":
		return logSettings{discard: true}
	case "local":
		if s.maxSize == 0 {
			s.maxSize = localMaxSize
		}
		if s.maxFiles == 0 {
			s.maxFiles = localMaxFiles
		}
		s.compress = c.Compress == nil || *c.Compress
	default:
		if s.maxSize == 0 {
			s.maxSize = -1
		}
		s.compress = c.Compress != nil && *c.Compress
	}
	s.maxFiles = max(s.maxFiles, 1)
	s.compress = s.compress && s.maxFiles > 1
	return s
}

// rotatedLogs are the rotated files of the log at path, oldest first:
// path.N (path.N.gz when compressed) down to path.1.
func rotatedLogs(path string) ([]string, error) {
	names, err := filepath.Glob(path + ".*")
	if err != nil {
		return nil, fmt.Errorf("listing rotated logs: %w", err)
	}
	type rotated struct {
		n    int
		name string
	}
	var found []rotated
	for _, name := range names {
		suffix := strings.TrimSuffix(strings.TrimPrefix(name, path+"."), ".gz")
		if n, err := strconv.Atoi(suffix); err == nil && n > 0 {
			found = append(found, rotated{n, name})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].n > found[j].n })
	out := make([]string, len(found))
	for i, r := range found {
		out[i] = r.name
	}
	return out, nil
}

// gzipFile compresses src into dst (through a temporary file) and
// removes src.
func gzipFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("compressing log: %w", err)
	}
	defer in.Close()
	err = atomicfile.WriteFunc(dst, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		_, err := io.Copy(zw, in)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("compressing log: %w", err)
	}
	return os.Remove(src)
}
