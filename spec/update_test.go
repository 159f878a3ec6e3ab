package spec

import (
	"strings"
	"testing"
	"time"
)

func TestUpdateConfig(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `services:
  web:
    image: x
    scale: 3
    deploy:
      update_config:
        order: start-first
        parallelism: 2
        delay: 1s
        failure_action: rollback
  db:
    image: x
`})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	web := mustService(t, p, "web")
	want := UpdateConfig{Order: StartFirst, Parallelism: 2, Delay: time.Second, FailureAction: "rollback"}
	if web.Update == nil || *web.Update != want || !web.StartFirst() {
		t.Fatalf("web.Update = %+v, want %+v", web.Update, want)
	}
	if db := mustService(t, p, "db"); db.Update != nil || db.StartFirst() {
		t.Fatalf("db.Update = %+v, want nil", db.Update)
	}
	other := web
	other.Update = nil
	if ConfigHash(other) != ConfigHash(web) {
		t.Error("update_config changes the config hash: a rollout setting must not recreate containers")
	}
}

func TestUpdateConfigRefused(t *testing.T) {
	tests := []struct {
		name, update string
		want         []string
	}{
		{"unknown order", "order: sideways", []string{"compose.yaml:7", "update_config.order", "start-first"}},
		{"pause", "order: start-first\n        failure_action: pause", []string{"compose.yaml:8", "failure_action pause", "not supported"}},
		{"monitor", "order: start-first\n        monitor: 5s", []string{"compose.yaml:8", "monitor"}},
		{"stop-first parallelism", "parallelism: 2", []string{"compose.yaml:7", "parallelism with order stop-first"}},
		{"stop-first delay", "order: stop-first\n        delay: 2s", []string{"compose.yaml:8", "delay with order stop-first"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    deploy:\n      update_config:\n        x-pad: 1\n        " + tc.update + "\n"})
			err := loadErr(t, LoadOptions{WorkingDir: dir})
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	dir := writeProject(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    container_name: w\n    deploy:\n      update_config:\n        order: start-first\n"})
	if err := loadErr(t, LoadOptions{WorkingDir: dir}); !strings.Contains(err.Error(), "container_name") {
		t.Errorf("start-first with container_name: %v", err)
	}
	dir = writeProject(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    deploy:\n      update_config:\n        order: start-first\n  side:\n    image: x\n    network_mode: service:web\n"})
	if err := loadErr(t, LoadOptions{WorkingDir: dir}); !strings.Contains(err.Error(), "compose.yaml:6") || !strings.Contains(err.Error(), "side uses") {
		t.Errorf("start-first of a shared service: %v", err)
	}
}
