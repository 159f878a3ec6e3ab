package engine

import (
	"testing"

	"github.com/berth-dev/berth/lifecycle"
)

func TestPickRunning(t *testing.T) {
	views := []ContainerView{
		{Name: "p-web-3", Service: "web", Number: 3, State: lifecycle.Running},
		{Name: "p-web-1", Service: "web", Number: 1, State: lifecycle.Exited},
		{Name: "p-web-2", Service: "web", Number: 2, State: lifecycle.Running},
		{Name: "p-db-1", Service: "db", Number: 1, State: lifecycle.Created},
		{Name: "p-db-run-1", Service: "db", Number: 1, State: lifecycle.Running, Labels: map[string]string{labelOneOff: "True"}},
		{Name: "p-job-run-1", Service: "job", Number: 1, State: lifecycle.Running, Labels: map[string]string{labelOneOff: "True"}},
		{Name: "p-job-1", Service: "job", Number: 1, State: lifecycle.Running, Labels: map[string]string{labelOneOff: "False"}},
	}
	for _, tc := range []struct {
		service string
		index   int
		want    string // container name, or the error
	}{
		{"web", 0, "p-web-2"},
		{"web", 3, "p-web-3"},
		{"web", 1, `service "web" is not running container #1`},
		{"web", 9, `service "web" is not running container #9`},
		{"db", 0, "p-db-run-1"},
		{"job", 0, "p-job-1"},
		{"nobody", 0, `service "nobody" is not running`},
		{"nope", 0, `service "nope" is not running`},
	} {
		got, err := pickRunning(views, tc.service, tc.index)
		have := got.Name
		if err != nil {
			have = err.Error()
		}
		if have != tc.want {
			t.Errorf("%s --index %d: got %q, want %q", tc.service, tc.index, have, tc.want)
		}
	}
}
