package runtime

import (
	"errors"
	"slices"
	"testing"
)

func TestBuildSpecInit(t *testing.T) {
	c := baseConfig()
	c.Args = []string{"sh", "-c", "sleep 1"}
	if s := buildSpec(t, c); !slices.Equal(s.Process.Args, c.Args) {
		t.Errorf("without init: args %q", s.Process.Args)
	}
	c.Init = "/usr/local/bin/berth-init"
	s := buildSpec(t, c)
	if want := []string{InitPath, "--", "sh", "-c", "sleep 1"}; !slices.Equal(s.Process.Args, want) {
		t.Errorf("with init: args %q, want %q", s.Process.Args, want)
	}
	found := false
	for _, m := range s.Mounts {
		if m.Destination == InitPath {
			found = m.Source == c.Init && m.Type == "bind" && slices.Contains(m.Options, "ro")
		}
	}
	if !found {
		t.Errorf("no read-only bind of %s at %s: %+v", c.Init, InitPath, s.Mounts)
	}
	if len(c.Mounts) != 0 {
		t.Errorf("BuildSpec changed the config's mounts: %+v", c.Mounts)
	}
	c.Init = "berth-init"
	if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("relative init: %v", err)
	}
}
