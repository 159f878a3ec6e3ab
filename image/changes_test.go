package image

import (
	"errors"
	"reflect"
	"testing"
)

func TestApplyChanges(t *testing.T) {
	var c Config
	err := applyChanges(&c, []string{
		`CMD ["/bin/sh", "-c", "echo hi"]`,
		`ENTRYPOINT /docker-entrypoint.sh --flag`,
		`ENV A=b`,
		`ENV C="d e" F=g`,
		`ENV A=replaced`,
		`ENV LEGACY some value`,
		`WORKDIR /srv`,
		`USER 1000:1000`,
		`EXPOSE 80 53/udp`,
		`LABEL org.example.x=1 "y z"=two`,
		`STOPSIGNAL SIGINT`,
		`VOLUME ["/data", "/cache"]`,
		`volume /data /more`,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Cmd:          []string{"/bin/sh", "-c", "echo hi"},
		Entrypoint:   []string{"/bin/sh", "-c", "/docker-entrypoint.sh --flag"},
		Env:          []string{"A=replaced", "C=d e", "F=g", "LEGACY=some value"},
		WorkingDir:   "/srv",
		User:         "1000:1000",
		ExposedPorts: []string{"80/tcp", "53/udp"},
		Labels:       map[string]string{"org.example.x": "1", "y z": "two"},
		StopSignal:   "SIGINT",
		Volumes:      []string{"/data", "/cache", "/more"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("applyChanges:\n got %#v\nwant %#v", c, want)
	}
}

func TestApplyChangesErrors(t *testing.T) {
	for _, line := range []string{"RUN echo", "CMD", "LABEL novalue", `ENV A="unterminated`, "FROM x"} {
		var c Config
		if err := applyChanges(&c, []string{line}); !errors.Is(err, ErrInvalidChange) {
			t.Errorf("applyChanges(%q) error = %v, want ErrInvalidChange", line, err)
		}
	}
	var c Config
	err := applyChanges(&c, []string{"RUN a", "ENV A=b", "COPY x y"})
	if err == nil || c.Env[0] != "A=b" {
		t.Fatalf("a bad line must not stop the good ones: %v %v", err, c.Env)
	}
}
