package compose

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/spec"
)

func TestCompatibilityNames(t *testing.T) {
	t.Cleanup(func() { spec.Separator, currentCompatibility = "-", false })
	for _, tc := range []struct {
		args, env, want string
	}{
		{"", "", "p-web-1"},
		{"--compatibility", "", "p_web_1"},
		{"", "true", "p_web_1"},
		{"", "1", "p_web_1"},
		{"--compatibility=false", "true", "p-web-1"}, // the flag wins
		{"", "false", "p-web-1"},
	} {
		t.Setenv("COMPOSE_COMPATIBILITY", tc.env)
		f := pflag.NewFlagSet("berth", pflag.ContinueOnError)
		apply := compatibilityFlag(f)
		if err := f.Parse(strings.Fields(tc.args)); err != nil {
			t.Fatal(err)
		}
		if err := apply(); err != nil {
			t.Fatal(err)
		}
		if got := spec.ContainerName("p", "web", 1); got != tc.want {
			t.Errorf("%q with COMPOSE_COMPATIBILITY=%q: %s, want %s", tc.args, tc.env, got, tc.want)
		}
		if got := oneOffName("p", "web"); !strings.HasPrefix(got, strings.TrimSuffix(tc.want, "1")+"run"+tc.want[1:2]) {
			t.Errorf("%q with COMPOSE_COMPATIBILITY=%q: one-off %s", tc.args, tc.env, got)
		}
	}
	t.Setenv("COMPOSE_COMPATIBILITY", "maybe")
	if err := compatibilityFlag(pflag.NewFlagSet("berth", pflag.ContinueOnError))(); err == nil || !strings.Contains(err.Error(), "COMPOSE_COMPATIBILITY") {
		t.Fatalf("a bad COMPOSE_COMPATIBILITY: %v", err)
	}
}
