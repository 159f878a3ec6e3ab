package engine

import (
	"errors"
	"io/fs"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/spec"
)

func TestSecurityConfig(t *testing.T) {
	files := map[string]string{"/p/profile.json": `{"defaultAction":"SCMP_ACT_ALLOW"}`}
	read := func(p string) ([]byte, error) {
		if c, ok := files[p]; ok {
			return []byte(c), nil
		}
		return nil, fs.ErrNotExist
	}
	got, err := securityConfig(spec.Security{CapAdd: []string{"CAP_NET_ADMIN"}, Seccomp: "/p/profile.json", Cgroup: "host",
		Devices: []spec.Device{{Source: "/dev/null", Target: "/dev/x", Permissions: "rw"}}, DeviceCgroupRules: []string{"c 1:3 r"}}, read)
	want := runtime.Security{CapAdd: []string{"CAP_NET_ADMIN"}, Seccomp: files["/p/profile.json"], CgroupNS: "host",
		Devices: []runtime.Device{{Source: "/dev/null", Target: "/dev/x", Permissions: "rw"}}, DeviceRules: []string{"c 1:3 r"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("securityConfig = %+v, %v; want %+v", got, err, want)
	}
	if got, _ := securityConfig(spec.Security{Seccomp: spec.SeccompUnconfined}, read); got.Seccomp != runtime.SeccompUnconfined {
		t.Errorf("unconfined became %q", got.Seccomp)
	}
	if _, err := securityConfig(spec.Security{Seccomp: "/p/gone.json"}, read); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing profile: %v", err)
	}
}

func TestSecurityConfigNamespacesAndLimits(t *testing.T) {
	got, err := securityConfig(spec.Security{Ipc: "service:db", IpcContainer: "p-db-1", Pid: "host", Uts: "host", OomScoreAdj: 300,
		Ulimits: map[string]spec.Ulimit{"nproc": {Soft: 10, Hard: 20}, "nofile": {Soft: 100, Hard: 200}}, ShmSize: 1 << 20}, nil)
	want := runtime.Security{IpcMode: "container:p-db-1", PidMode: "host", UtsHost: true, OomScoreAdj: 300, ShmSize: 1 << 20,
		Rlimits: []runtime.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}, {Type: "RLIMIT_NPROC", Soft: 10, Hard: 20}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("securityConfig = %+v, %v; want %+v", got, err, want)
	}
	if got, _ := securityConfig(spec.Security{Ipc: "shareable"}, nil); got.IpcMode != runtime.IpcShareable {
		t.Errorf("shareable became %q", got.IpcMode)
	}
	if got, _ := securityConfig(spec.Security{Ipc: "private"}, nil); got.IpcMode != "" {
		t.Errorf("private became %q", got.IpcMode)
	}
}

func TestUlimitAbove(t *testing.T) {
	host := func(name string) (uint64, error) { return 1024, nil }
	ul := map[string]spec.Ulimit{"nofile": {Soft: 100, Hard: 4096}}
	if err := ulimitAbove(ul, host, false); err == nil || err.Error() != "ulimits nofile: hard limit 4096 is above this host's 1024, and berth lacks CAP_SYS_RESOURCE to raise it" {
		t.Errorf("error %v", err)
	}
	if err := ulimitAbove(ul, host, true); err != nil {
		t.Errorf("with CAP_SYS_RESOURCE: %v", err)
	}
	if err := ulimitAbove(map[string]spec.Ulimit{"nofile": {Soft: 100, Hard: 1024}}, host, false); err != nil {
		t.Errorf("at the host's limit: %v", err)
	}
}
