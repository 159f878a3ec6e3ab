package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLoggingConverted(t *testing.T) {
	tests := []struct {
		yaml string
		want *Logging
	}{
		{"", nil},
		{"    logging:\n      driver: json-file\n", nil}, // as before logging options: the same hash
		{"    logging:\n      options:\n        max-size: 1k\n        max-file: '3'\n        compress: 'true'\n",
			&Logging{Driver: "json-file", MaxSize: 1000, MaxFiles: 3, Compress: ptr(true)}},
		{"    logging:\n      driver: local\n      options:\n        compress: 'false'\n", &Logging{Driver: "local", Compress: ptr(false)}},
		{"    logging:\n      driver: none\n", &Logging{Driver: "none"}},
	}
	for _, tc := range tests {
		if got := loadWeb(t, tc.yaml).Logging; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: Logging = %+v, want %+v", tc.yaml, got, tc.want)
		}
	}
}

func TestLoggingRefused(t *testing.T) {
	tests := []struct {
		yaml string
		want string
		kind error
	}{
		{"    logging:\n      driver: syslog\n", `compose.yaml:5: service "web": logging driver syslog`, ErrUnsupported},
		{"    logging:\n      options:\n        max-size: lots\n", `compose.yaml:6: service "web": logging option max-size "lots" must be a positive size`, ErrInvalid},
		{"    logging:\n      options:\n        max-file: '0'\n", `compose.yaml:6: service "web": logging option max-file "0" cannot be less than 1`, ErrInvalid},
		{"    logging:\n      options:\n        max-size: 1m\n        compress: 'true'\n", `compose.yaml:7: service "web": logging option compress cannot be true when max-file is less than 2`, ErrInvalid},
		{"    logging:\n      driver: none\n      options:\n        max-size: 1m\n", `compose.yaml:7: service "web": logging option max-size of driver none is not supported`, ErrUnsupported},
	}
	for _, tc := range tests {
		file := "services:\n  web:\n    image: busybox\n" + tc.yaml
		err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %v with %q", err, tc.kind, tc.want)
		}
	}
}

func TestHooksConverted(t *testing.T) {
	s := loadWeb(t, "    post_start:\n      - command: [sh, -c, 'echo hi']\n        user: nobody\n        privileged: true\n        working_dir: /tmp\n        environment:\n          A: b\n"+
		"    pre_stop:\n      - command: echo bye\n")
	want := []Hook{{Command: []string{"sh", "-c", "echo hi"}, User: "nobody", Privileged: true, WorkingDir: "/tmp", Environment: map[string]string{"A": "b"}}}
	if !reflect.DeepEqual(s.PostStart, want) {
		t.Errorf("post_start %+v, want %+v", s.PostStart, want)
	}
	if want := []Hook{{Command: []string{"echo", "bye"}}}; !reflect.DeepEqual(s.PreStop, want) {
		t.Errorf("pre_stop %+v, want %+v", s.PreStop, want)
	}
}
