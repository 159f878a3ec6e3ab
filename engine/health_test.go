package engine

import (
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-dev/berth/spec"
)

func TestHealthFromServiceOrImage(t *testing.T) {
	img := &v1.HealthConfig{Test: []string{"CMD", "check"}, Interval: time.Second, Retries: 2}
	if h := health(nil, img); h == nil || !slices.Equal(h.Test, []string{"check"}) || h.Interval != time.Second || h.Retries != 2 {
		t.Errorf("the image's HEALTHCHECK applies when the service has none: %+v", h)
	}
	if h := health(&spec.Healthcheck{Test: []string{"NONE"}}, img); h != nil {
		t.Errorf("disable: true turns the image's off: %+v", h)
	}
	h := health(&spec.Healthcheck{Test: []string{"CMD-SHELL", "curl -f localhost"}}, img)
	if h == nil || !slices.Equal(h.Test, []string{"/bin/sh", "-c", "curl -f localhost"}) {
		t.Errorf("the service's wins, CMD-SHELL through sh: %+v", h)
	}
	if health(nil, nil) != nil {
		t.Error("no check anywhere is none")
	}
}
