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
