package spec

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadSecurity(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
services:
  web:
    image: busybox
    cap_add: [net_admin, CAP_SYS_TIME]
    cap_drop: [ALL]
    security_opt: [no-new-privileges, "seccomp=profiles/p.json", "label=type:svirt_t"]
    devices: ["/dev/null:/dev/mynull:rw", "/dev/zero"]
    device_cgroup_rules: ["c 1:3 mr", "a *:* rwm"]
    group_add: [audio, "1234"]
    cgroup: host
  open:
    image: busybox
    privileged: true
    security_opt: ["seccomp:unconfined", "no-new-privileges:false", "apparmor=unconfined"]
`})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	want := Security{
		CapAdd: []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}, CapDrop: []string{"ALL"},
		Seccomp: filepath.Join(dir, "profiles/p.json"), NoNewPrivileges: true, Label: []string{"type:svirt_t"},
		Devices:           []Device{{"/dev/null", "/dev/mynull", "rw"}, {"/dev/zero", "/dev/zero", "rwm"}},
		DeviceCgroupRules: []string{"c 1:3 mr", "a *:* rwm"}, GroupAdd: []string{"audio", "1234"}, Cgroup: "host",
	}
	if got := mustService(t, p, "web").Security; !reflect.DeepEqual(got, want) {
		t.Errorf("web security\n %+v\nwant\n %+v", got, want)
	}
	want = Security{Privileged: true, Seccomp: SeccompUnconfined, AppArmor: "unconfined"}
	if got := mustService(t, p, "open").Security; !reflect.DeepEqual(got, want) {
		t.Errorf("open security\n %+v\nwant\n %+v", got, want)
	}
}

func TestLoadSecurityInvalid(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"cap_add: [NET_FLY]", `cap_add: unknown capability: "NET_FLY"`},
		{"security_opt: [seccomp]", `security_opt "seccomp": seccomp needs a profile`},
		{"security_opt: [no-new-privileges=maybe]", `invalid no-new-privileges value`},
		{"security_opt: [sekcomp=x]", `invalid --security-opt`},
		{"devices: ['/dev/null:/dev/x:rwx']", `invalid device mode: rwx`},
		{"devices: ['dev/null']", `must be absolute`},
		{"device_cgroup_rules: ['x 1:3 r']", `invalid device cgroup rule format`},
		{"cgroup: shared", `cgroup value must be one of 'host', 'private'`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			file := "services:\n  web:\n    image: busybox\n    " + tc.yaml + "\n"
			err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `compose.yaml:4: `) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrInvalid at compose.yaml:4 saying %q", err, tc.want)
			}
		})
	}
}

func TestLoadSecurityRefused(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"gpus: all", `compose.yaml:4: service "web": gpus (GPU access needs the NVIDIA container toolkit`},
		{"gpus:\n      - driver: nvidia\n        count: 1", `compose.yaml:4: service "web": gpus (GPU access`},
		{"runtime: nvidia", `compose.yaml:4: service "web": runtime "nvidia" (berth runs containers with runc's libcontainer only) is not supported`},
	} {
		file := "services:\n  web:\n    image: busybox\n    " + tc.yaml + "\n"
		err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrUnsupported saying %q", tc.yaml, err, tc.want)
		}
	}
	// The default runtime by name is accepted.
	mustLoad(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: busybox\n    runtime: runc\n"})})
}

func TestSecurityUnusedKeepsHash(t *testing.T) {
	s := mustService(t, mustLoad(t, LoadOptions{WorkingDir: stackDir(t)}), "web")
	if strings.Contains(string(s.Canonical()), "security") {
		t.Errorf("a service without security keys encodes them: %s", s.Canonical())
	}
}
