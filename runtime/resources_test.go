package runtime

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ociJSON is res's OCI resources as JSON, for compact comparisons.
func ociJSON(t *testing.T, r *Resources, h hostLimits, reset bool) string {
	t.Helper()
	var res specs.LinuxResources
	r.oci(&res, func() hostLimits { return h }, reset)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestResourcesOCI(t *testing.T) {
	swap := hostLimits{CPUs: 2, Swap: true}
	tests := []struct {
		name  string
		r     *Resources
		h     hostLimits
		reset bool
		want  string
	}{
		{"none", nil, swap, false, `{}`},
		{"cpus as a quota over 100ms", &Resources{NanoCPUs: 5e8}, swap, false, `{"cpu":{"quota":50000,"period":100000}}`},
		{"memory with twice as much swap", &Resources{Memory: 32 << 20}, swap, false, `{"memory":{"limit":33554432,"swap":67108864}}`},
		{"no swap accounting", &Resources{Memory: 32 << 20, MemorySwap: -1}, hostLimits{CPUs: 2}, false, `{"memory":{"limit":33554432}}`},
		{"unlimited swap", &Resources{Memory: 32 << 20, MemorySwap: -1}, swap, false, `{"memory":{"limit":33554432,"swap":-1}}`},
		{"pids, shares, cpuset, quota, weight", &Resources{PidsLimit: 50, CPUShares: 512, CPUSet: "0", CPUQuota: 20000, CPUPeriod: 50000, BlkioWeight: 300, MemorySwappiness: new(int64)},
			swap, false, `{"memory":{"swappiness":0},"cpu":{"shares":512,"quota":20000,"period":50000,"cpus":"0"},"pids":{"limit":50},"blockIO":{"weight":300}}`},
		{"reset takes away what is gone", &Resources{PidsLimit: 50}, swap, true,
			`{"memory":{"limit":-1,"reservation":-1,"swap":-1},"cpu":{"shares":1024,"quota":-1,"period":100000},"pids":{"limit":50}}`},
		{"reset of no limits", nil, swap, true,
			`{"memory":{"limit":-1,"reservation":-1,"swap":-1},"cpu":{"shares":1024,"quota":-1,"period":100000},"pids":{"limit":-1}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ociJSON(t, tc.r, tc.h, tc.reset); got != tc.want {
				t.Errorf("oci =\n %s\nwant\n %s", got, tc.want)
			}
		})
	}
}

// A container without a memory limit starts without berth finding out
// what the host's cgroups can limit (host reads the cgroup file
// systems); one with a memory limit, or an update, asks.
func TestResourcesOCIAsksTheHostForMemoryOnly(t *testing.T) {
	for _, r := range []*Resources{nil, {NanoCPUs: 5e8, PidsLimit: 50, CPUSet: "0", BlkioWeight: 300}} {
		var res specs.LinuxResources
		r.oci(&res, func() hostLimits { t.Fatalf("oci of %+v asked the host", r); return hostLimits{} }, false)
	}
	for _, tc := range []struct {
		r     *Resources
		reset bool
	}{{&Resources{Memory: 32 << 20}, false}, {&Resources{MemorySwap: -1}, false}, {nil, true}} {
		asked := false
		var res specs.LinuxResources
		tc.r.oci(&res, func() hostLimits { asked = true; return hostLimits{Swap: true} }, tc.reset)
		if !asked || res.Memory == nil || res.Memory.Swap == nil {
			t.Errorf("oci of %+v (reset %v): asked the host %v, memory %+v; want asked and a swap limit", tc.r, tc.reset, asked, res.Memory)
		}
	}
}

func TestResourcesCheck(t *testing.T) {
	h := hostLimits{CPUs: 2, Swap: true}
	if err := (&Resources{NanoCPUs: 2e9}).check(h); err != nil {
		t.Errorf("cpus 2 on 2 CPUs: %v", err)
	}
	if err := (&Resources{NanoCPUs: 3e9}).check(h); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("cpus 3 on 2 CPUs: %v, want ErrInvalidConfig", err)
	}
	if err := (&Resources{BlkioWeight: 300}).check(h); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("blkio weight without kernel support: %v, want ErrInvalidConfig", err)
	}
	h.BlkioWeight = true
	if err := (&Resources{BlkioWeight: 300}).check(h); err != nil {
		t.Errorf("blkio weight with kernel support: %v", err)
	}
	h.Online = "0-1"
	if err := (&Resources{CPUSet: "0,1"}).check(h); err != nil {
		t.Errorf("cpuset 0,1 on 0-1: %v", err)
	}
	if err := (&Resources{CPUSet: "1-3"}).check(h); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "requested CPUs are not available") {
		t.Errorf("cpuset 1-3 on 0-1: %v, want Docker's error", err)
	}
	if err := (*Resources)(nil).check(h); err != nil {
		t.Errorf("no limits: %v", err)
	}
}
