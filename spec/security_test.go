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

func TestLoadNamespacesAndLimits(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
name: p
services:
  db:
    image: busybox
    ipc: shareable
    sysctls: {net.core.somaxconn: "1024", kernel.shmmax: "65536", fs.mqueue.msg_max: "20"}
    ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
    shm_size: 128m
    oom_score_adj: 500
  app:
    image: busybox
    ipc: service:db
    pid: "container:other"
    uts: host
`})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	db := mustService(t, p, "db").Security
	want := Security{Ipc: "shareable", Sysctls: map[string]string{"net.core.somaxconn": "1024", "kernel.shmmax": "65536", "fs.mqueue.msg_max": "20"},
		Ulimits: map[string]Ulimit{"nofile": {1024, 2048}, "nproc": {512, 512}}, ShmSize: 128 << 20, OomScoreAdj: 500}
	if !reflect.DeepEqual(db, want) {
		t.Errorf("db\n %+v\nwant\n %+v", db, want)
	}
	app := mustService(t, p, "app")
	want = Security{Ipc: "service:db", IpcContainer: "p-db-1", Pid: "container:other", PidContainer: "other", Uts: "host"}
	if !reflect.DeepEqual(app.Security, want) || app.DependsOn["db"].Condition != "service_started" {
		t.Errorf("app\n %+v (depends on %v)\nwant\n %+v", app.Security, app.DependsOn, want)
	}
}

func TestLoadNamespacesInvalid(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"sysctls: {kernel.hostname: x}", `sysctls: sysctl 'kernel.hostname=x' is not allowed`},
		{"network_mode: host\n    sysctls: {net.core.somaxconn: 1}", `not allowed in the host network namespace`},
		{"ulimits: {nofile: {soft: 20, hard: 10}}", `ulimits nofile: ulimit soft limit must be less than or equal to hard limit`},
		{"ulimits: {nofiles: 10}", `ulimits nofiles: invalid ulimit type: nofiles`},
		{"ipc: service:nope", `depends on undefined service "nope"`},
		{"pid: private", `pid "private" must be one of host, service:NAME or container:NAME`},
		{"oom_score_adj: 2000", `compose.yaml:4: services.web.oom_score_adj`},
		{"hostname: h\n    uts: host", `conflicting options: hostname and uts: host`},
	}
	for _, tc := range tests {
		file := "services:\n  web:\n    image: busybox\n    " + tc.yaml + "\n"
		err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `compose.yaml:`) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrInvalid naming the line and saying %q", tc.yaml, err, tc.want)
		}
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
