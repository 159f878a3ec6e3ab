package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	units "github.com/docker/go-units"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// viewsStack has a service with labels (one from a label file), an
// environment, a published port and a volume, and a plain one.
const viewsStack = `
services:
  web:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    environment: {GREETING: hello}
    labels: {tier: front}
    label_file: [web.labels]
    ports: ["127.0.0.1::8080"]
    volumes: [data:/data]
  worker:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    labels: {tier: back}
volumes:
  data: {}
`

// ls, ps's labels and filters, inspect and stats, read against what
// other commands and the kernel say.
func TestViews(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	dir := project(t, viewsStack)
	if err := os.WriteFile(filepath.Join(dir, "web.labels"), []byte("team=shop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := newUser(t, dir)
	t.Cleanup(func() {
		u.try("down", "-v", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	u.importBusybox()
	u.run("up", "-d")
	web, worker := u.project+"-web-1", u.project+"-worker-1"

	t.Run("ls", func(t *testing.T) { checkLs(t, u, dir, "running(2)", "running(2)") })

	var ps []map[string]any
	for line := range strings.Lines(u.run("ps", "--no-trunc", "--format", "json")) {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("ps --format json: %v: %q", err, line)
		}
		ps = append(ps, row)
	}
	ids := map[string]string{}
	for _, row := range ps {
		ids[row["Name"].(string)] = row["ID"].(string)
	}
	t.Run("ps labels", func(t *testing.T) {
		for _, row := range ps {
			labels := strings.Split(row["Labels"].(string), ",")
			want := []string{"com.docker.compose.project=" + u.project, "tier=back"}
			if row["Name"] == web {
				want = []string{"com.docker.compose.service=web", "tier=front", "team=shop"}
			}
			for _, w := range want {
				if !slices.Contains(labels, w) {
					t.Errorf("%s: no %s in Labels %q", row["Name"], w, row["Labels"])
				}
			}
		}
		if out := strings.Fields(u.run("ps", "-q", "--filter", "label=tier=front")); !slices.Equal(out, []string{ids[web]}) {
			t.Errorf("ps --filter label=tier=front: %v, want %s", out, ids[web])
		}
		if out := strings.Fields(u.run("ps", "-q", "--filter", "label=team")); !slices.Equal(out, []string{ids[web]}) {
			t.Errorf("ps --filter label=team: %v, want %s", out, ids[web])
		}
		if out := strings.Fields(u.run("ps", "-q", "--filter", "label=tier")); len(out) != 2 {
			t.Errorf("ps --filter label=tier: %v, want both", out)
		}
		if out, err := u.try("ps", "--filter", "colour=red"); err == nil {
			t.Errorf("an unknown filter passed:\n%s", out)
		}
	})

	t.Run("inspect", func(t *testing.T) { checkInspect(t, u, web, ids) })
	t.Run("stats", func(t *testing.T) { checkStats(t, u, web, ids) })

	u.run("stop", "worker")
	t.Run("ls after a stop", func(t *testing.T) { checkLs(t, u, dir, "running(1)", "exited(1), running(1)") })
	if out := strings.Fields(u.run("ps", "-q", "--filter", "status=exited")); !slices.Equal(out, []string{ids[worker]}) {
		t.Errorf("ps --filter status=exited: %v, want %s", out, ids[worker])
	}
	if out := u.run("stats", "--no-stream", "--format", "{{.Name}}: {{.MemUsage}} {{.PIDs}}"); strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, web+": ") {
		t.Errorf("stats --no-stream without -a shows more than the running web:\n%s", out)
	}
	if out := u.run("stats", "--no-stream", "-a", "--format", "{{.Name}}: {{.MemUsage}} {{.PIDs}}"); !strings.Contains(out, worker+": 0B / 0B 0\n") {
		t.Errorf("stats -a shows the stopped worker as Docker does (zeros):\n%s", out)
	}
	u.run("stop")
	if out := u.run("ls", "-q"); strings.Contains(out, u.project) {
		t.Errorf("ls lists a project with nothing running:\n%s", out)
	}
	t.Run("ls -a of a stopped project", func(t *testing.T) { checkLs(t, u, dir, "", "exited(2)") })
}

// checkLs checks ls and ls -a (as JSON, table and -q) against the
// statuses wanted; "" wants the project not listed.
func checkLs(t *testing.T, u *user, dir, status, statusAll string) {
	t.Helper()
	files := filepath.Join(dir, "compose.yaml")
	for _, c := range []struct {
		flags []string
		want  string
	}{{nil, status}, {[]string{"-a"}, statusAll}} {
		var stacks []struct{ Name, Status, ConfigFiles string }
		out := u.run(append([]string{"ls", "--format", "json"}, c.flags...)...)
		if err := json.Unmarshal([]byte(out), &stacks); err != nil {
			t.Fatalf("ls --format json %v: %v\n%s", c.flags, err, out)
		}
		var got []string
		for _, s := range stacks {
			if s.Name == u.project {
				got = append(got, s.Status)
				if s.ConfigFiles != files {
					t.Errorf("ls %v: ConfigFiles %q, want %q", c.flags, s.ConfigFiles, files)
				}
			}
		}
		if want := slices.DeleteFunc([]string{c.want}, func(s string) bool { return s == "" }); !slices.Equal(got, want) {
			t.Errorf("ls %v: statuses %v, want %v\n%s", c.flags, got, want, out)
		}
		table := u.run(append([]string{"ls"}, c.flags...)...)
		t.Logf("ls %v:\n%s", c.flags, table)
		if !strings.HasPrefix(table, "NAME") || (c.want != "" && !strings.Contains(table, c.want+"   ")) {
			t.Errorf("ls %v table:\n%s", c.flags, table)
		}
		quiet := strings.Fields(u.run(append([]string{"ls", "-q"}, c.flags...)...))
		if slices.Contains(quiet, u.project) != (c.want != "") {
			t.Errorf("ls -q %v: %v", c.flags, quiet)
		}
	}
	if out := u.run("ls", "-a", "-q", "--filter", "name=nothing-is-called-this"); out != "" {
		t.Errorf("ls --filter name= kept %q", out)
	}
	if out, err := u.try("ls", "--filter", "status=running"); err == nil {
		t.Errorf("ls took a filter it does not have:\n%s", out)
	}
}

// inspected is the part of docker inspect's JSON the test reads.
type inspected struct {
	Id, Name string
	State    struct {
		Status  string
		Running bool
		Pid     int
	}
	Config struct {
		Env    []string
		Labels map[string]string
		Cmd    []string
	}
	HostConfig struct {
		PortBindings  map[string][]struct{ HostIp, HostPort string }
		RestartPolicy struct{ Name string }
	}
	Mounts []struct {
		Type, Name, Destination string
		RW                      bool
	}
	NetworkSettings struct {
		Networks map[string]struct {
			IPAddress, Gateway, MacAddress string
			Aliases                        []string
		}
	}
}

func inspect(t *testing.T, u *user, args ...string) []inspected {
	t.Helper()
	out := u.run(append([]string{"inspect"}, args...)...)
	var got []inspected
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("inspect %v: %v\n%s", args, err, out)
	}
	if !strings.HasPrefix(out, "[\n    {\n        \"Id\"") {
		t.Errorf("inspect is not indented as Docker's:\n%.80s", out)
	}
	return got
}

func checkInspect(t *testing.T, u *user, web string, ids map[string]string) {
	got := inspect(t, u, "web")
	t.Logf("inspect web:\n%s", u.run("inspect", "web"))
	if len(got) != 1 {
		t.Fatalf("inspect web: %d containers", len(got))
	}
	c := got[0]
	if c.Id != ids[web] || c.Name != "/"+web || !c.State.Running || c.State.Status != "running" || c.State.Pid <= 0 {
		t.Errorf("inspect web: %+v", c)
	}
	if !slices.Contains(c.Config.Env, "GREETING=hello") || c.Config.Labels["tier"] != "front" || c.Config.Labels["team"] != "shop" ||
		c.Config.Labels["com.docker.compose.service"] != "web" || c.Config.Labels["com.docker.compose.project"] != u.project {
		t.Errorf("inspect web Config: %+v", c.Config)
	}
	if c.HostConfig.RestartPolicy.Name != "no" {
		t.Errorf("restart policy %q, want no", c.HostConfig.RestartPolicy.Name)
	}
	hostPort := strings.TrimSpace(u.run("port", "web", "8080"))
	if b := c.HostConfig.PortBindings["8080/tcp"]; len(b) != 1 || "127.0.0.1:"+b[0].HostPort != hostPort {
		t.Errorf("PortBindings %+v, berth port says %s", c.HostConfig.PortBindings, hostPort)
	}
	if len(c.Mounts) != 1 || c.Mounts[0].Type != "volume" || c.Mounts[0].Name != u.project+"_data" || c.Mounts[0].Destination != "/data" || !c.Mounts[0].RW {
		t.Errorf("Mounts %+v", c.Mounts)
	}
	netName := u.project + "_default"
	var net []struct {
		Containers map[string]struct{ Name, IPv4Address string }
	}
	if err := json.Unmarshal([]byte(u.run("network", "inspect", netName)), &net); err != nil || len(net) != 1 {
		t.Fatalf("network inspect: %v", err)
	}
	var addr string
	for _, ep := range net[0].Containers {
		if ep.Name == web {
			addr, _, _ = strings.Cut(ep.IPv4Address, "/")
		}
	}
	ep, ok := c.NetworkSettings.Networks[netName]
	if !ok || addr == "" || ep.IPAddress != addr || ep.Gateway == "" || ep.MacAddress == "" || !slices.Contains(ep.Aliases, "web") {
		t.Errorf("NetworkSettings.Networks %+v; network inspect says %s has %q", c.NetworkSettings.Networks, web, addr)
	}

	if byName := inspect(t, u, web); len(byName) != 1 || byName[0].Id != c.Id {
		t.Errorf("inspect by name: %+v", byName)
	}
	if byPrefix := inspect(t, u, c.Id[:7]); len(byPrefix) != 1 || byPrefix[0].Id != c.Id {
		t.Errorf("inspect by ID prefix: %+v", byPrefix)
	}
	if out := u.run("inspect", "--format", "{{.State.Status}} {{index .Config.Labels \"tier\"}}", "web"); out != "running front\n" {
		t.Errorf("inspect --format: %q", out)
	}
	out, err := u.try("inspect", "nothing-is-called-this")
	if err == nil || !strings.Contains(out, "Error: No such object: nothing-is-called-this") || !strings.HasPrefix(out, "[]") {
		t.Errorf("inspect of nothing: %v\n%s", err, out)
	}
	if code := exitCode(err); code != 1 {
		t.Errorf("inspect of nothing exits %d, want 1", code)
	}
}

// statsJSON is a row of stats --format json.
type statsJSON struct {
	BlockIO, CPUPerc, Container, ID, MemPerc, MemUsage, Name, NetIO, PIDs string
}

func checkStats(t *testing.T, u *user, web string, ids map[string]string) {
	parent := engine.HostName(u.root)
	usage, procs := cgroupMemory(t, parent, web), len(cgroupProcs(t, u, web))
	out := u.run("stats", "--no-stream", "--format", "json")
	after := cgroupMemory(t, parent, web)
	rows := map[string]statsJSON{}
	for line := range strings.Lines(out) {
		var r statsJSON
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("stats --format json: %v\n%s", err, out)
		}
		rows[r.Name] = r
	}
	r, ok := rows[web]
	if !ok || len(rows) != 2 {
		t.Fatalf("stats rows %v", rows)
	}
	if r.ID != ids[web][:12] || r.Container != ids[web] || !strings.HasSuffix(r.CPUPerc, "%") || !strings.HasSuffix(r.MemPerc, "%") {
		t.Errorf("stats row %+v", r)
	}
	used, _, _ := strings.Cut(r.MemUsage, " / ")
	mem, err := units.RAMInBytes(used)
	lo, hi := min(usage, after), max(usage, after)
	if err != nil || float64(mem) < float64(lo)*0.9 || float64(mem) > float64(hi)*1.1 {
		t.Errorf("MEM USAGE %q (%d bytes), the cgroup says %d to %d", r.MemUsage, mem, lo, hi)
	}
	if r.PIDs != strconv.Itoa(procs) {
		t.Errorf("PIDS %s, the cgroup has %d processes", r.PIDs, procs)
	}
	if !strings.Contains(r.NetIO, " / ") || !strings.Contains(r.BlockIO, " / ") {
		t.Errorf("NET I/O %q, BLOCK I/O %q", r.NetIO, r.BlockIO)
	}
	table := u.run("stats", "--no-stream", "web")
	t.Logf("stats --no-stream web:\n%s", table)
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "CONTAINER ID   NAME") ||
		!strings.Contains(lines[0], "MEM USAGE / LIMIT") || !strings.Contains(lines[1], web) {
		t.Errorf("stats --no-stream web:\n%s", table)
	}
	live := u.start("stats")
	live.wait(web)
	live.interrupt()
	if !strings.Contains(strings.Join(live.seen, "\n"), "\033[H") {
		t.Errorf("a stream does not redraw from the top: %q", live.seen)
	}
}

// cgroupMemory is what Docker counts of the container's memory: its
// cgroup's usage less the inactive file cache (cgroup v1, else v2).
func cgroupMemory(t *testing.T, parent, name string) uint64 {
	t.Helper()
	dir, usageFile, inactiveKey := filepath.Join("/sys/fs/cgroup/memory", parent, name), "memory.usage_in_bytes", "total_inactive_file"
	if _, err := os.Stat(dir); err != nil {
		dir, usageFile, inactiveKey = filepath.Join("/sys/fs/cgroup", parent, name), "memory.current", "inactive_file"
	}
	b, err := os.ReadFile(filepath.Join(dir, usageFile))
	if err != nil {
		t.Fatal(err)
	}
	usage, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "memory.stat"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, _ := strings.Cut(sc.Text(), " "); k == inactiveKey {
			n, _ := strconv.ParseUint(v, 10, 64)
			if n < usage {
				usage -= n
			}
		}
	}
	return usage
}

// exitCode is the exit code of a finished berth command.
func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	return 0
}
