package kube

import (
	"reflect"
	"testing"

	"github.com/berth-dev/berth/spec"
)

// considered are the fields of spec.Service the mapping reads (mapped or
// refused) or leaves out on purpose (informational, hashed only, or the
// host's alone). A field added to spec.Service fails this test until the
// mapping says what it does with it, so nothing is silently dropped.
var considered = map[string]string{
	"Name": "mapped", "Image": "mapped", "PullPolicy": "mapped", "Entrypoint": "mapped", "Command": "mapped",
	"Environment": "mapped", "WorkingDir": "mapped", "User": "mapped", "Hostname": "mapped", "Networks": "mapped",
	"NetworkMode": "refused", "Mounts": "mapped", "Ports": "mapped", "DependsOn": "mapped", "StopSignal": "mapped",
	"StopGracePeriod": "mapped", "Restart": "mapped", "Labels": "mapped", "Scale": "mapped", "Tty": "mapped",
	"StdinOpen": "mapped", "Init": "refused", "ReadOnly": "mapped", "Profiles": "applied by the loader",
	"Platform": "mapped", "Domainname": "refused", "ExtraHosts": "mapped", "Links": "mapped (refused with an alias)",
	"ExternalLinks": "refused", "DNS": "mapped", "DNSSearch": "mapped", "DNSOpt": "mapped", "MacAddress": "refused",
	"VolumesFrom": "refused", "Configs": "mapped", "Secrets": "mapped", "ContainerName": "refused",
	"Healthcheck": "mapped", "NoAttach": "attached up only", "Expose": "mapped", "Build": "mapped (refused without image)",
	"Resources": "mapped", "Logging": "refused", "PostStart": "mapped", "PreStop": "mapped", "PullRefresh": "mapped (refresh: Always; a window refused)",
	"Security":     "mapped (kube/security.go; what has no field refused)",
	"RestartDelay": "refused", "RestartWindow": "refused",
	"Update": "mapped (kube/strategy.go: a Deployment's rolling update; failure_action rollback refused)",
}

func TestEveryServiceFieldConsidered(t *testing.T) {
	typ := reflect.TypeOf(spec.Service{})
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; considered[name] == "" {
			t.Errorf("spec.Service.%s is new: map it in package kube (or refuse it) and list it in considered", name)
		}
	}
}
