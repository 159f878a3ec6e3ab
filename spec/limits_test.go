package spec

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadWeb(t *testing.T, body string) Service {
	t.Helper()
	file := "services:\n  web:\n    image: busybox\n" + body
	return mustService(t, mustLoad(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})}), "web")
}

func TestResourcesConverted(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       *Resources
	}{
		{"none", "", nil},
		{"service keys", "    cpus: 0.5\n    cpu_shares: 512\n    cpuset: 0-1\n    mem_limit: 32m\n    mem_reservation: 16m\n" +
			"    memswap_limit: 64m\n    mem_swappiness: 10\n    pids_limit: 50\n    blkio_config:\n      weight: 300\n",
			&Resources{NanoCPUs: 5e8, CPUShares: 512, CPUSet: "0-1", Memory: 32 << 20, MemoryReservation: 16 << 20,
				MemorySwap: 64 << 20, MemorySwappiness: ptr(int64(10)), PidsLimit: 50, BlkioWeight: 300}},
		{"quota and period", "    cpu_quota: 50000\n    cpu_period: 100000\n", &Resources{CPUQuota: 50000, CPUPeriod: 100000}},
		{"unlimited swap", "    mem_limit: 32m\n    memswap_limit: -1\n", &Resources{Memory: 32 << 20, MemorySwap: -1}},
		{"deploy limits and reservations", "    deploy:\n      resources:\n        limits:\n          cpus: '1.5'\n          memory: 64m\n          pids: 20\n" +
			"        reservations:\n          cpus: '0.25'\n          memory: 8m\n",
			&Resources{NanoCPUs: 15e8, Memory: 64 << 20, PidsLimit: 20, MemoryReservation: 8 << 20}},
		{"deploy over service keys", "    cpu_shares: 100\n    deploy:\n      resources:\n        limits:\n          memory: 64m\n",
			&Resources{CPUShares: 100, Memory: 64 << 20}},
		// As Compose: mem_swappiness 0 is "not set".
		{"swappiness 0", "    mem_swappiness: 0\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := loadWeb(t, tc.yaml).Resources
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Resources = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestResourcesRefused(t *testing.T) {
	tests := []struct {
		yaml string
		want []string
		kind error
	}{
		{"    cpus: 0.5\n    cpu_quota: 50000\n", []string{"compose.yaml:4", `service "web": cpus cannot be set with cpu_quota`}, ErrInvalid},
		{"    cpu_period: 10\n", []string{"compose.yaml:4", `service "web": cpu_period 10 must be between`}, ErrInvalid},
		{"    mem_limit: 1m\n", []string{"compose.yaml:4", "below Docker's minimum of 6MB"}, ErrInvalid},
		{"    memswap_limit: 64m\n", []string{"compose.yaml:4", "memswap_limit needs a memory limit"}, ErrInvalid},
		{"    mem_limit: 64m\n    memswap_limit: 32m\n", []string{"compose.yaml:5", "memswap_limit must not be less"}, ErrInvalid},
		{"    mem_limit: 16m\n    mem_reservation: 32m\n", []string{"compose.yaml:5", "memory reservation must not exceed"}, ErrInvalid},
		{"    cpuset: 'a-b'\n", []string{"compose.yaml:4", `cpuset "a-b"`}, ErrInvalid},
		{"    blkio_config:\n      weight: 5\n", []string{"compose.yaml:5", "blkio_config.weight 5 must be between 10 and 1000"}, ErrInvalid},
		{"    deploy:\n      resources:\n        limits:\n          memory: 1k\n", []string{"compose.yaml:7", "below Docker's minimum"}, ErrInvalid},
		{"    blkio_config:\n      device_read_bps:\n        - path: /dev/sda\n          rate: 1mb\n", []string{"compose.yaml:4", "blkio_config per-device settings is not supported"}, ErrUnsupported},
		{"    deploy:\n      resources:\n        reservations:\n          devices:\n            - capabilities: [gpu]\n",
			[]string{"compose.yaml:7", "deploy.resources.reservations.devices is not supported"}, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.want[1], func(t *testing.T) {
			file := "services:\n  web:\n    image: busybox\n" + tc.yaml
			err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %v is not %v", err, tc.kind)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestLimitsChanged(t *testing.T) {
	base := Service{Name: "web", Resources: &Resources{Memory: 32 << 20, MemorySwappiness: ptr(int64(5))}}
	same := Service{Name: "web", Resources: &Resources{Memory: 32 << 20, MemorySwappiness: ptr(int64(5))}}
	if LimitsChanged(base, same) {
		t.Error("equal limits reported changed")
	}
	if !LimitsChanged(base, Service{Name: "web"}) || !LimitsChanged(Service{Name: "web"}, base) {
		t.Error("limits added or removed not reported")
	}
	if LimitsChanged(Service{}, Service{Resources: &Resources{}}) {
		t.Error("nil and empty limits reported different")
	}
	more := Service{Name: "web", Resources: &Resources{Memory: 64 << 20, MemorySwappiness: ptr(int64(5))}}
	if got := LimitsDiff(base, more); !reflect.DeepEqual(got, []string{"resources.memory"}) {
		t.Errorf("LimitsDiff = %q, want [resources.memory]", got)
	}
	if !LimitsChanged(base, more) || ConfigHash(base) != ConfigHash(more) {
		t.Error("a changed memory limit must be reported by LimitsChanged and leave the hash alone")
	}
}

// delay and window reach the service where they act: delay with any
// policy but "no" (0s kept: restart at once), window only with a retry
// count.
func TestDeployRestartTiming(t *testing.T) {
	sec := func(n int) *time.Duration { d := time.Duration(n) * time.Second; return &d }
	tests := []struct {
		yaml          string
		delay, window *time.Duration
	}{
		{"    deploy:\n      restart_policy:\n        condition: on-failure\n        max_attempts: 3\n        delay: 5s\n        window: 1m\n", sec(5), sec(60)},
		{"    deploy:\n      restart_policy:\n        condition: any\n        delay: 0s\n", sec(0), nil},
		{"    deploy:\n      restart_policy:\n        condition: any\n        window: 1m\n", nil, nil},
		{"    deploy:\n      restart_policy:\n        condition: on-failure\n        window: 1m\n", nil, nil},
		{"    deploy:\n      restart_policy:\n        condition: on-failure\n        max_attempts: 1\n        window: 0s\n", nil, nil},
		{"    deploy:\n      restart_policy:\n        condition: none\n        delay: 5s\n", nil, nil},
		{"    restart: always\n", nil, nil},
	}
	for _, tc := range tests {
		s := loadWeb(t, tc.yaml)
		if !reflect.DeepEqual(s.RestartDelay, tc.delay) || !reflect.DeepEqual(s.RestartWindow, tc.window) {
			t.Errorf("%q: delay %v window %v, want %v %v", tc.yaml, s.RestartDelay, s.RestartWindow, tc.delay, tc.window)
		}
	}
	a := loadWeb(t, "    deploy:\n      restart_policy:\n        condition: any\n        delay: 1s\n")
	b := loadWeb(t, "    deploy:\n      restart_policy:\n        condition: any\n        delay: 2s\n")
	if ConfigHash(a) == ConfigHash(b) || !reflect.DeepEqual(Diff(a, b), []string{"restart_delay"}) {
		t.Errorf("a changed delay: Diff %q, hashes equal %v", Diff(a, b), ConfigHash(a) == ConfigHash(b))
	}
}

func TestDeployRestartPolicy(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"    deploy:\n      restart_policy:\n        condition: any\n", "always"},
		{"    deploy:\n      restart_policy:\n        condition: none\n", "no"},
		{"    restart: always\n    deploy:\n      restart_policy:\n        condition: on-failure\n        max_attempts: 3\n        delay: 5s\n        window: 1m\n", "on-failure:3"},
		{"    restart: on-failure:2\n", "on-failure:2"},
	}
	for _, tc := range tests {
		if got := loadWeb(t, tc.yaml).Restart; got != tc.want {
			t.Errorf("%q: restart %q, want %q", tc.yaml, got, tc.want)
		}
	}
	for _, tc := range []struct{ yaml, want string }{
		{"    deploy:\n      restart_policy:\n        condition: sometimes\n", `compose.yaml:6: service "web": deploy.restart_policy.condition "sometimes" must be`},
		{"    deploy:\n      restart_policy:\n        condition: any\n        max_attempts: 3\n", `compose.yaml:7: service "web": deploy.restart_policy.max_attempts cannot be used with condition "any"`},
		{"    deploy:\n      restart_policy:\n        condition: any\n        delay: -2s\n", `compose.yaml:7: service "web": deploy.restart_policy.delay -2s must not be negative`},
		{"    deploy:\n      restart_policy:\n        condition: on-failure\n        max_attempts: 2\n        window: -1m\n", `compose.yaml:8: service "web": deploy.restart_policy.window -1m0s must not be negative`},
	} {
		file := "services:\n  web:\n    image: busybox\n" + tc.yaml
		err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}
