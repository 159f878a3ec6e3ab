package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/atomicfile"
)

// stepKey is the cache key of a step: its parent's key, the instruction
// after expansion, the build settings it runs with (ENV, USER, WORKDIR,
// SHELL, the ARGs in scope) and extra, the digest of the content it reads
// (COPY/ADD) or the key of the stage it copies from.
func stepKey(parent string, instruction any, conf stageConfig, args scope, extra string) (string, error) {
	ins, err := json.Marshal(instruction)
	if err != nil {
		return "", fmt.Errorf("encoding the instruction: %w", err)
	}
	settings, err := json.Marshal([]any{conf.cfg.Env, conf.cfg.User, conf.cfg.WorkingDir, conf.shell})
	if err != nil {
		return "", fmt.Errorf("encoding the build settings: %w", err)
	}
	h := sha256.New()
	for _, part := range []string{parent, fmt.Sprintf("%T", instruction), string(ins), string(settings), args.argsText(), extra} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// baseKey is the cache key of a stage's starting point.
func baseKey(kind, id string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + id))
	return hex.EncodeToString(sum[:])
}

// record is what the cache keeps of one step: the layer it made, if any,
// and when it ran (the time a rebuild from the cache reports).
type record struct {
	Layer   *image.Layer `json:",omitempty"`
	Created time.Time
}

// cache is the step records of one image store, one file per key.
type cache struct{ dir string }

func (c cache) path(key string) string { return filepath.Join(c.dir, key+".json") }

// get returns the record of key and whether there is one.
func (c cache) get(key string) (record, bool) {
	var r record
	data, err := os.ReadFile(c.path(key))
	if err != nil || json.Unmarshal(data, &r) != nil {
		return record{}, false
	}
	return r, true
}

// put stores the record of key (temp file and rename).
func (c cache) put(key string, r record) error {
	if r.Layer != nil {
		l := *r.Layer
		l.Dir = "" // found again from the store on use
		r.Layer = &l
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(c.path(key), data); err != nil {
		return fmt.Errorf("writing the build cache: %w", err)
	}
	return nil
}
