package spec

import (
	"encoding/json"
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
