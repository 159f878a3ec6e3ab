package compose

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// defaultSettingsPath is where berth's host configuration lives unless
// --config or BERTH_CONFIG name another file.
const defaultSettingsPath = "/etc/berth/config.yaml"

// settings is berth's host configuration. Its keys and meanings are those
// of Docker's daemon.json, and YAML reads JSON, so a daemon.json can be
// used as it is.
type settings struct {
	RegistryMirrors    []string `yaml:"registry-mirrors"`    // tried in order for docker.io images, then docker.io itself
	InsecureRegistries []string `yaml:"insecure-registries"` // "host[:port]" or CIDR: plain HTTP allowed
}

// loadSettings reads the configuration file at path. A missing file is an
// error only when the user named it; unknown keys are errors naming the
// file and line.
func loadSettings(path string, named bool) (settings, error) {
	var s settings
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !named {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading berth configuration: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
