package runtime

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestBuildExec(t *testing.T) {
	c := Config{ID: "p-web-1", Env: []string{"PATH=/bin", "A=1", "B=2"}, Cwd: "/srv", Hostname: "abc"}
	root := Identity{Home: "/root"}
	for _, tc := range []struct {
		name string
		o    ExecOptions
		user Identity
		want execProcess
	}{
		{
			name: "the container's environment, working directory and user",
			o:    ExecOptions{Args: []string{"sh"}},
			user: root,
			want: execProcess{Args: []string{"sh"}, Env: []string{"HOSTNAME=abc", "PATH=/bin", "A=1", "B=2", "HOME=/root"}, Cwd: "/srv", User: root},
		},
		{
			name: "-e replaces in place, appends, and a bare name removes",
			o:    ExecOptions{Args: []string{"env"}, Env: []string{"B=3", "C=4", "A", "NOPE"}},
			user: root,
			want: execProcess{Args: []string{"env"}, Env: []string{"HOSTNAME=abc", "PATH=/bin", "B=3", "C=4", "HOME=/root"}, Cwd: "/srv", User: root},
		},
		{
			name: "-w and -u: the user's home and ids",
			o:    ExecOptions{Args: []string{"id"}, WorkingDir: "/tmp"},
			user: Identity{UID: 65534, GID: 65534, AdditionalGIDs: []int{1}, Home: "/home"},
			want: execProcess{Args: []string{"id"}, Env: []string{"HOSTNAME=abc", "PATH=/bin", "A=1", "B=2", "HOME=/home"}, Cwd: "/tmp",
				User: Identity{UID: 65534, GID: 65534, AdditionalGIDs: []int{1}, Home: "/home"}},
		},
		{
			name: "HOME set by the exec wins; no working directory means /",
			o:    ExecOptions{Args: []string{"true"}, Env: []string{"HOME=/x", "PATH=/usr/bin"}},
			user: root,
			want: execProcess{Args: []string{"true"}, Env: []string{"HOSTNAME=abc", "PATH=/usr/bin", "A=1", "B=2", "HOME=/x"}, Cwd: "/", User: root},
		},
		{
			name: "a terminal gets TERM=xterm",
			o:    ExecOptions{Args: []string{"sh"}, Tty: true},
			user: root,
			want: execProcess{Args: []string{"sh"}, Env: []string{"HOSTNAME=abc", "TERM=xterm", "PATH=/bin", "A=1", "B=2", "HOME=/root"}, Cwd: "/srv", User: root},
		},
		{
			name: "TERM of the exec wins",
			o:    ExecOptions{Args: []string{"sh"}, Tty: true, Env: []string{"TERM=vt100"}},
			user: root,
			want: execProcess{Args: []string{"sh"}, Env: []string{"HOSTNAME=abc", "TERM=vt100", "PATH=/bin", "A=1", "B=2", "HOME=/root"}, Cwd: "/srv", User: root},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := c
			if tc.want.Cwd == "/" {
				cc.Cwd = ""
			}
			got, err := buildExec(cc, tc.o, tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Args, tc.want.Args) || !slices.Equal(got.Env, tc.want.Env) || got.Cwd != tc.want.Cwd ||
				got.User.UID != tc.want.User.UID || got.User.Home != tc.want.User.Home || !slices.Equal(got.User.AdditionalGIDs, tc.want.User.AdditionalGIDs) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestBuildExecRejects(t *testing.T) {
	_, err := buildExec(Config{ID: "x"}, ExecOptions{WorkingDir: "rel", Env: []string{"=v"}}, Identity{})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("got %v, want ErrInvalidConfig", err)
	}
	for _, want := range []string{"no command", `working directory "rel" is not an absolute path`, `environment variable "=v" has no name`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not report %q", err, want)
		}
	}
}

func TestBuildExecLeavesConfigAlone(t *testing.T) {
	env := []string{"A=1", "B=2"}
	c := Config{ID: "x", Env: env}
	if _, err := buildExec(c, ExecOptions{Args: []string{"x"}, Env: []string{"A", "B=3"}}, Identity{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(env, []string{"A=1", "B=2"}) {
		t.Errorf("the container's environment was changed: %v", env)
	}
}
