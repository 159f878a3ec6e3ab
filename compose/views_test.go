package compose

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/lifecycle"
)

func TestCombinedStatus(t *testing.T) {
	for _, c := range []struct {
		states []string
		want   string
	}{
		{[]string{"running", "running", "running"}, "running(3)"},
		{[]string{"running", "exited", "running"}, "exited(1), running(2)"},
		{[]string{"paused", "created", "exited"}, "created(1), exited(1), paused(1)"},
	} {
		if got := combinedStatus(c.states); got != c.want {
			t.Errorf("combinedStatus(%v) = %q, want %q", c.states, got, c.want)
		}
	}
}

func TestStacks(t *testing.T) {
	files := map[string]string{configFilesLabel: "/a/compose.yaml,/a/override.yaml"}
	cs := []engine.ContainerView{
		{Project: "a", State: lifecycle.Running, Labels: files},
		{Project: "a", State: lifecycle.Exited, Labels: map[string]string{configFilesLabel: "/a/compose.yaml"}},
		{Project: "b", State: lifecycle.Exited, Labels: files},
		{Project: "c", State: lifecycle.Running},                // made before config files were recorded
		{Project: "d", State: lifecycle.Missing, Labels: files}, // gone from the host
	}
	got := stacks(cs, false)
	want := []stackRow{{"a", "running(1)", "/a/compose.yaml,/a/override.yaml"}, {"c", "running(1)", "N/A"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ls: %v, want %v", got, want)
	}
	got = stacks(cs, true)
	if len(got) != 3 || got[0].Status != "exited(1), running(1)" || got[1] != (stackRow{"b", "exited(1)", "/a/compose.yaml,/a/override.yaml"}) {
		t.Errorf("ls -a: %v", got)
	}
	if !matchesName([]string{"^a$"}, "a") || matchesName([]string{"^a$"}, "ab") || !matchesName(nil, "x") || !matchesName([]string{"b"}, "ab") {
		t.Error("the name filter is not Docker's (a value or a regular expression)")
	}
	if _, err := lsNameFilters([]string{"status=running"}); err == nil {
		t.Error("ls accepted a filter other than name")
	}
}

func TestCPUPercent(t *testing.T) {
	// 0.5 s of container CPU in 2 s of host CPU time over 2 CPUs: half a CPU.
	if got := cpuPercent(1e9, 1.5e9, 10e9, 12e9, 2); got != 50 {
		t.Errorf("cpuPercent = %v, want 50", got)
	}
	if got := cpuPercent(5, 5, 10, 20, 2); got != 0 {
		t.Errorf("no CPU used: %v", got)
	}
	if got := cpuPercent(5, 9, 10, 10, 2); got != 0 {
		t.Errorf("no host time passed: %v", got)
	}
}

func TestStatsRows(t *testing.T) {
	id := strings.Repeat("ab", 32)
	prev := statsSample{host: engine.HostUsage{SystemCPU: 100e9, OnlineCPUs: 2, Memory: 8 << 30},
		containers: []engine.ContainerStats{{ID: id, Name: "p-web-1", Running: true, Usage: engine.Usage{CPUTotal: 1e9}}}}
	cur := statsSample{host: engine.HostUsage{SystemCPU: 102e9, OnlineCPUs: 2, Memory: 8 << 30},
		containers: []engine.ContainerStats{
			{ID: id, Name: "p-web-1", Running: true, Usage: engine.Usage{CPUTotal: 1.25e9, Memory: 3<<20 + 512<<10, MemoryInactive: 512 << 10,
				MemoryLimit: 1<<63 - 4096, NetRx: 1234, NetTx: 56_700_000, BlockRead: 4096, Pids: 2}},
			{ID: strings.Repeat("cd", 32), Name: "p-db-1"},
		}}
	rows := statsRows(prev, cur, false, true)
	want := statsRow{Container: id, ID: id[:12], Name: "p-web-1", CPUPerc: "25.00%", MemUsage: "3MiB / 8GiB", MemPerc: "0.04%",
		NetIO: "1.23kB / 56.7MB", BlockIO: "4.1kB / 0B", PIDs: "2"}
	if len(rows) != 1 || rows[0] != want {
		t.Errorf("rows %+v\nwant %+v", rows, want)
	}
	rows = statsRows(prev, cur, true, false)
	stopped := statsRow{Container: strings.Repeat("cd", 32), ID: strings.Repeat("cd", 32), Name: "p-db-1", CPUPerc: "0.00%",
		MemUsage: "0B / 0B", MemPerc: "0.00%", NetIO: "0B / 0B", BlockIO: "0B / 0B", PIDs: "0"}
	if len(rows) != 2 || rows[1] != stopped || rows[0].ID != id {
		t.Errorf("--all --no-trunc rows %+v", rows)
	}
}

func TestResolveContainers(t *testing.T) {
	all := []engine.ContainerView{
		{Name: "p-web-1", Project: "p", Service: "web", ID: "abc111"},
		{Name: "p-web-2", Project: "p", Service: "web", ID: "abd222"},
		{Name: "q-web-1", Project: "q", Service: "web", ID: "f00333"},
		{Name: "web", Project: "q", Service: "other", ID: "e44444"},
	}
	for _, c := range []struct {
		arg, project string
		want         string
		err          string
	}{
		{"web", "p", "p-web-1 p-web-2", ""},
		{"web", "", "web", ""}, // no project: a container name
		{"q-web-1", "p", "q-web-1", ""},
		{"abd222", "p", "p-web-2", ""},
		{"f0", "p", "q-web-1", ""},
		{"ab", "p", "", "multiple IDs found with provided prefix: ab"},
		{"zz", "p", "", "No such object: zz"},
	} {
		got, err := resolveContainers(c.arg, c.project, all)
		if strings.Join(got, " ") != c.want || (err == nil) != (c.err == "") || (err != nil && err.Error() != c.err) {
			t.Errorf("resolve %q in %q: %v %v, want %q %q", c.arg, c.project, got, err, c.want, c.err)
		}
	}
}

func TestPsFilter(t *testing.T) {
	c := engine.ContainerView{State: lifecycle.Running, Labels: map[string]string{"tier": "front", "b": "x=y"}}
	for _, k := range []struct {
		filter string
		keeps  bool
	}{
		{"", true}, {"label=tier", true}, {"label=tier=front", true}, {"label=tier=back", false}, {"label=none", false},
		{"label=b=x=y", true}, {"status=running", true}, {"status=exited", false},
	} {
		f, err := parsePsFilter(k.filter, nil)
		if err != nil || f.keeps(c) != k.keeps {
			t.Errorf("--filter %q keeps: %v %v, want %v", k.filter, f.keeps(c), err, k.keeps)
		}
	}
	for _, bad := range []string{"label", "colour=red", "label="} {
		if _, err := parsePsFilter(bad, nil); err == nil {
			t.Errorf("--filter %q was accepted", bad)
		}
	}
	if got := joinLabels(map[string]string{"b": "2", "a": "1"}); got != "a=1,b=2" {
		t.Errorf("joinLabels = %q", got)
	}
}

func TestDockerInspectShape(t *testing.T) {
	d := engine.ContainerDetail{ContainerView: engine.ContainerView{ID: strings.Repeat("ab", 32), Name: "p-web-1", State: lifecycle.Restarting,
		Ports: []engine.PortView{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}},
		Args: []string{"sh", "-c", "x"}, Restart: "on-failure:3",
		Networks: []engine.NetworkEndpoint{{Network: "p_default", Aliases: []string{"p-web-1", "web"}, Address: "10.0.0.2"}}}
	c := dockerInspect(d)
	if c.Name != "/p-web-1" || c.Path != "sh" || strings.Join(c.Args, " ") != "-c x" || !c.State.Running || !c.State.Restarting ||
		c.State.StartedAt != "0001-01-01T00:00:00Z" || c.HostConfig.RestartPolicy.Name != "on-failure" || c.HostConfig.RestartPolicy.MaximumRetryCount != 3 ||
		c.HostConfig.NetworkMode != "p_default" || c.HostConfig.PortBindings["80/tcp"][0] != (portBindingJSON{"", "8080"}) ||
		c.NetworkSettings.Ports["80/tcp"][0].HostIp != "0.0.0.0" || c.NetworkSettings.Networks["p_default"].IPAddress != "10.0.0.2" {
		t.Errorf("inspect %+v", c)
	}
	if name, n := restartPolicy(""); name != "no" || n != 0 {
		t.Errorf("no restart policy: %s %d", name, n)
	}
}
