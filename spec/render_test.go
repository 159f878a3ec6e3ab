package spec

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRender(t *testing.T) {
	p := mustLoad(t, LoadOptions{WorkingDir: stackDir(t), Environ: []string{"PASSTHROUGH=x"}})

	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			b, err := p.Render(format)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Name     string                    `yaml:"name" json:"name"`
				Services map[string]map[string]any `yaml:"services" json:"services"`
				Networks map[string]map[string]any `yaml:"networks" json:"networks"`
			}
			if format == "yaml" {
				err = yaml.Unmarshal(b, &doc)
			} else {
				err = json.Unmarshal(b, &doc)
			}
			if err != nil {
				t.Fatalf("rendered %s does not parse: %v\n%s", format, err, b)
			}
			if doc.Name != "stack" || len(doc.Services) != len(p.Services) {
				t.Errorf("rendered project %q with %d services, want stack with %d", doc.Name, len(doc.Services), len(p.Services))
			}
			if doc.Services["web"]["image"] != "nginx:1.27" || doc.Networks["back"]["name"] != "stack_back" {
				t.Errorf("rendered web %v, back %v: not the interpolated, normalised model", doc.Services["web"], doc.Networks["back"])
			}
			if _, ok := doc.Services["tools"]; ok {
				t.Error("a service disabled by profiles was rendered")
			}
		})
	}

	// What `config` prints is itself a compose file that loads into the
	// same services.
	t.Run("renders a fixed point", func(t *testing.T) {
		b, err := p.Render("yaml")
		if err != nil {
			t.Fatal(err)
		}
		// The rendered secret names its variable; the value is not in it.
		again := mustLoad(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": string(b)}),
			Environ: []string{"API_TOKEN=x"}})
		for _, s := range p.Services {
			if d := Diff(s, mustService(t, again, s.Name)); len(d) != 0 {
				t.Errorf("service %s changed through render and load: %q", s.Name, d)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		if _, err := p.Render("toml"); err == nil {
			t.Error("Render(toml) succeeded")
		}
		if _, err := (&Project{Name: "hand"}).Render("yaml"); err == nil {
			t.Error("rendering a hand-built project succeeded")
		}
	})
}

// No output berth produces from a project holds a secret's value: neither
// `config` in either format nor the canonical forms stored with containers.
func TestSecretsNeverRendered(t *testing.T) {
	const fromEnv, fromFile = "tok-from-dotenv-7f3a9c", "db-password-in-a-file"
	p := mustLoad(t, LoadOptions{WorkingDir: stackDir(t)})
	// The test means something only if the loaded model does hold the value.
	if got := p.loaded.Secrets["api_token"].Content; got != fromEnv {
		t.Fatalf("compose-go's model holds %q for api_token, want the variable's value", got)
	}
	if v, _ := p.LookupEnv("API_TOKEN"); v != fromEnv {
		t.Fatalf("LookupEnv(API_TOKEN) = %q", v)
	}
	for _, format := range []string{"yaml", "json"} {
		b, err := p.Render(format)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{fromEnv, fromFile} {
			if strings.Contains(string(b), secret) {
				t.Errorf("rendered %s contains the secret %q", format, secret)
			}
		}
		if !strings.Contains(string(b), "API_TOKEN") {
			t.Errorf("rendered %s does not say where api_token comes from", format)
		}
		// Configs are not secret: inline content is shown.
		if !strings.Contains(string(b), "Welcome to the demo stack") {
			t.Errorf("rendered %s lacks the banner config's content", format)
		}
	}
	for _, s := range p.Services {
		if c := string(s.Canonical()); strings.Contains(c, fromEnv) || strings.Contains(c, fromFile) {
			t.Errorf("canonical form of %s contains a secret: %s", s.Name, c)
		}
	}
	for name, src := range p.Secrets {
		if src.Content != "" {
			t.Errorf("Project.Secrets[%s].Content = %q, want the value left to LookupEnv", name, src.Content)
		}
	}
}
