package spec

import (
	"encoding"
	"encoding/json"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHashStableAcrossLoads(t *testing.T) {
	a := mustLoad(t, LoadOptions{WorkingDir: stackDir(t)})
	b := mustLoad(t, LoadOptions{WorkingDir: stackDir(t)})
	for _, s := range a.Services {
		if h1, h2 := ConfigHash(s), ConfigHash(mustService(t, b, s.Name)); h1 != h2 {
			t.Errorf("service %s: hash %s then %s", s.Name, h1, h2)
		}
	}
}

// The same service written differently (key order, map vs list syntax,
// order of ports, aliases and labels) hashes the same.
func TestHashIgnoresSpelling(t *testing.T) {
	one := writeProject(t, map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    environment:
      A: "1"
      B: "2"
    labels:
      x: "1"
      y: "2"
    ports: ["80:80", "443:443"]
    networks:
      front:
        aliases: [a, b]
    volumes: ["data:/data"]
    extra_hosts: ["a.local:10.0.0.1", "b.local=10.0.0.2"]
    dns: 1.1.1.1
    secrets: [s]
    configs: [c, d]
networks:
  front: {}
volumes:
  data: {}
secrets:
  s:
    file: ./s
configs:
  c:
    file: ./c
  d:
    content: x
`})
	two := writeProject(t, map[string]string{"compose.yaml": `
volumes:
  data:
networks:
  front:
services:
  web:
    volumes:
      - type: volume
        source: data
        target: /data
    networks:
      front:
        aliases: [b, a]
    ports:
      - target: 443
        published: "443"
      - target: 80
        published: "80"
        protocol: tcp
    labels: ["y=2", "x=1"]
    environment: ["B=2", "A=1"]
    image: nginx
    extra_hosts:
      b.local: 10.0.0.2
      a.local: 10.0.0.1
    dns: [1.1.1.1]
    secrets:
      - source: s
        target: /run/secrets/s
    configs:
      - source: d
        target: d
      - source: c
        target: /c
configs:
  c:
    file: ./c
  d:
    content: x
secrets:
  s:
    file: ./s
`})
	s1 := mustService(t, mustLoad(t, LoadOptions{WorkingDir: one, ProjectName: "p"}), "web")
	s2 := mustService(t, mustLoad(t, LoadOptions{WorkingDir: two, ProjectName: "p"}), "web")
	if ConfigHash(s1) != ConfigHash(s2) {
		t.Errorf("hashes differ; Diff = %q\n%s\n%s", Diff(s1, s2), s1.Canonical(), s2.Canonical())
	}
}

// hashedFields maps each json key of Service to a change of that field, and
// the path Diff must report for it.
var hashedChanges = []struct {
	path   string
	change func(*Service)
}{
	{"name", func(s *Service) { s.Name = "other" }},
	{"image", func(s *Service) { s.Image = "nginx:1.28" }},
	{"entrypoint", func(s *Service) { s.Entrypoint = []string{"/bin/sh", "-c"} }},
	{"command", func(s *Service) { s.Command = append(s.Command, "-v") }},
	{"environment.API_URL", func(s *Service) { s.Environment["API_URL"] = "http://api:9090" }},
	{"environment.NEW", func(s *Service) { s.Environment["NEW"] = "" }},
	{"working_dir", func(s *Service) { s.WorkingDir = "/app" }},
	{"user", func(s *Service) { s.User = "nobody" }},
	{"hostname", func(s *Service) { s.Hostname = "h" }},
	{"networks.front.aliases", front(func(n *ServiceNetwork) { n.Aliases = []string{"www"} })},
	{"networks.front.ipv6_address", front(func(n *ServiceNetwork) { n.IPv6Address = netip.MustParseAddr("fd00:1::11") })},
	{"networks.front.mac_address", front(func(n *ServiceNetwork) { n.MacAddress = "" })},
	{"networks.back.ipv4_address", func(s *Service) { s.Networks["back"] = ServiceNetwork{IPv4Address: netip.MustParseAddr("10.0.0.2")} }},
	{"networks.extra", func(s *Service) { s.Networks["extra"] = ServiceNetwork{} }},
	{"network_mode", func(s *Service) { s.NetworkMode = "host" }},
	{"mounts", func(s *Service) { s.Mounts[0].ReadOnly = false }},
	{"ports", func(s *Service) { s.Ports[0].Published = PortRange{5354, 5354} }},
	{"stop_signal", func(s *Service) { s.StopSignal = "SIGTERM" }},
	{"stop_grace_period", func(s *Service) { s.StopGracePeriod = ptr(time.Second) }},
	{"restart", func(s *Service) { s.Restart = "always" }},
	{"restart_delay", func(s *Service) { d := time.Second; s.RestartDelay = &d }},
	{"restart_window", func(s *Service) { d := time.Minute; s.RestartWindow = &d }},
	{"labels.com.example.stack", func(s *Service) { s.Labels["com.example.stack"] = "other" }},
	{"tty", func(s *Service) { s.Tty = true }},
	{"stdin_open", func(s *Service) { s.StdinOpen = true }},
	{"init", func(s *Service) { s.Init = true }},
	{"container_name", func(s *Service) { s.ContainerName = "fixed" }},
	{"healthcheck.test", func(s *Service) { s.Healthcheck = &Healthcheck{Test: []string{"CMD", "true"}} }},
	{"read_only", func(s *Service) { s.ReadOnly = true }},
	{"post_start", func(s *Service) { s.PostStart = []Hook{{Command: []string{"true"}}} }},
	{"pre_stop", func(s *Service) { s.PreStop = []Hook{{Command: []string{"true"}}} }},
	{"logging.driver", func(s *Service) { s.Logging = &Logging{Driver: "local"} }},
	{"platform", func(s *Service) { s.Platform = "linux/arm64/v8" }},
	{"domainname", func(s *Service) { s.Domainname = "" }},
	{"extra_hosts", func(s *Service) { s.ExtraHosts = append(s.ExtraHosts, parsed[ExtraHost]("new.local:10.0.0.9")...) }},
	{"links", func(s *Service) { s.Links = append(s.Links, Link{Target: "db", Alias: "database"}) }},
	{"external_links", func(s *Service) { s.ExternalLinks = append(s.ExternalLinks, Link{Target: "legacy-1", Alias: "legacy"}) }},
	{"dns", func(s *Service) { s.DNS = []string{"9.9.9.9"} }},
	{"dns_search", func(s *Service) { s.DNSSearch = []string{"corp.test", "example.test"} }}, // order matters
	{"dns_opt", func(s *Service) { s.DNSOpt = s.DNSOpt[:1] }},
	{"mac_address", func(s *Service) { s.MacAddress = "02:42:ac:11:00:99" }},
	{"volumes_from", func(s *Service) { s.VolumesFrom = parsed[VolumesFrom]("service:db:ro") }},
	{"configs", func(s *Service) { s.Configs[0].Mode = ptr(uint32(0o400)) }},
	{"secrets", func(s *Service) { s.Secrets[0].Target = "/run/secrets/cert.pem" }},
	{"mounts", func(s *Service) { s.Mounts[3].Propagation = "" }}, // bind propagation
	{"security.cap_add", func(s *Service) { s.Security.CapAdd = []string{"CAP_NET_ADMIN"} }},
	{"security.cap_drop", func(s *Service) { s.Security.CapDrop = []string{"ALL"} }},
	{"security.privileged", func(s *Service) { s.Security.Privileged = true }},
	{"security.seccomp", func(s *Service) { s.Security.Seccomp = SeccompUnconfined }},
	{"security.no_new_privileges", func(s *Service) { s.Security.NoNewPrivileges = true }},
	{"security.devices", func(s *Service) { s.Security.Devices = []Device{{"/dev/null", "/dev/x", "rwm"}} }},
	{"security.group_add", func(s *Service) { s.Security.GroupAdd = []string{"audio"} }},
	{"security.cgroup", func(s *Service) { s.Security.Cgroup = "host" }},
	{"security.sysctls", func(s *Service) { s.Security.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"} }},
	{"security.ulimits", func(s *Service) { s.Security.Ulimits = map[string]Ulimit{"nofile": {Soft: 1, Hard: 2}} }},
	{"security.shm_size", func(s *Service) { s.Security.ShmSize = 1 << 20 }},
	{"security.ipc", func(s *Service) { s.Security.Ipc = "host" }},
	{"security.pid", func(s *Service) { s.Security.Pid = "host" }},
	{"security.uts", func(s *Service) { s.Security.Uts = "host" }},
	{"security.oom_score_adj", func(s *Service) { s.Security.OomScoreAdj = 500 }},
}

// front returns a change of web's attachment to network front.
func front(change func(*ServiceNetwork)) func(*Service) {
	return func(s *Service) {
		n := s.Networks["front"]
		change(&n)
		s.Networks["front"] = n
	}
}

// unhashed are the fields that never recreate a container.
var unhashed = []struct {
	path   string
	change func(*Service)
}{
	{"no_attach", func(s *Service) { s.NoAttach = true }},
	{"scale", func(s *Service) { s.Scale = 5 }},
	{"update", func(s *Service) { s.Update = &UpdateConfig{Order: StartFirst} }},
	{"depends_on", func(s *Service) { s.DependsOn = map[string]Dependency{"db": {Condition: "service_healthy"}} }},
	{"pull_policy", func(s *Service) { s.PullPolicy = "always" }},
	{"pull_refresh", func(s *Service) { s.PullPolicy, s.PullRefresh = "refresh", time.Hour }},
	{"profiles", func(s *Service) { s.Profiles = []string{"x"} }},
	{"expose", func(s *Service) { s.Expose = []string{"80/tcp"} }},
	{"build", func(s *Service) { s.Build = &Build{Context: "/src"} }},
	{"resources", func(s *Service) { s.Resources = &Resources{Memory: 64 << 20} }},
}

// copyService deep-copies s through its canonical form.
func copyService(t *testing.T, s Service) Service {
	t.Helper()
	c, err := ParseCanonical(s.Canonical())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHashSensitivity(t *testing.T) {
	base := mustService(t, mustLoad(t, LoadOptions{WorkingDir: stackDir(t)}), "web")
	baseHash := ConfigHash(base)
	for _, tc := range hashedChanges {
		t.Run(tc.path, func(t *testing.T) {
			changed := copyService(t, base)
			tc.change(&changed)
			if ConfigHash(changed) == baseHash {
				t.Errorf("changing %s left the hash unchanged", tc.path)
			}
			if got := Diff(base, changed); !reflect.DeepEqual(got, []string{tc.path}) {
				t.Errorf("Diff = %q, want [%q]", got, tc.path)
			}
			if got := Diff(changed, base); !reflect.DeepEqual(got, []string{tc.path}) {
				t.Errorf("reverse Diff = %q, want [%q]", got, tc.path)
			}
		})
	}
	for _, tc := range unhashed {
		t.Run(tc.path, func(t *testing.T) {
			changed := copyService(t, base)
			tc.change(&changed)
			if ConfigHash(changed) != baseHash {
				t.Errorf("changing %s changed the hash", tc.path)
			}
			if got := Diff(base, changed); len(got) != 0 {
				t.Errorf("Diff = %q, want none", got)
			}
		})
	}
	t.Run("entrypoint nil vs empty", func(t *testing.T) {
		a, b := copyService(t, base), copyService(t, base)
		a.Entrypoint, b.Entrypoint = nil, []string{}
		if ConfigHash(a) == ConfigHash(b) {
			t.Error("resetting the entrypoint does not change the hash")
		}
		if got := Diff(a, b); !reflect.DeepEqual(got, []string{"entrypoint"}) {
			t.Errorf("Diff = %q, want [entrypoint]", got)
		}
	})
	t.Run("environment added to a service without any", func(t *testing.T) {
		a := copyService(t, base)
		a.Environment = nil
		b := copyService(t, a)
		b.Environment = map[string]string{"X": "1"}
		if got := Diff(a, b); !reflect.DeepEqual(got, []string{"environment.X"}) {
			t.Errorf("Diff = %q, want [environment.X]", got)
		}
	})
}

// Every field of Service is covered by the tables above, so a field added
// later must be classified (hashed or not) here too.
func TestHashTablesCoverEveryField(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range hashedChanges {
		covered[strings.Split(c.path, ".")[0]] = true
	}
	for _, c := range unhashed {
		covered[c.path] = true
	}
	typ := reflect.TypeFor[Service]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if !covered[name] {
			t.Errorf("field %s (%q) is in neither hashedChanges nor unhashed", typ.Field(i).Name, name)
		}
	}
}

// The upgrade property: a field added to Service in a later berth version,
// zero for containers made before it, changes no existing hash (no mass
// recreate on upgrade). Simulated by appending fields of every kind to
// Service's struct type and encoding a loaded service through it.
func TestHashUnchangedByNewZeroFields(t *testing.T) {
	typ := reflect.TypeFor[Service]()
	var fields []reflect.StructField
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i))
	}
	fields = append(fields,
		reflect.StructField{Name: "Ulimits", Type: reflect.TypeFor[*struct{ Nofile int }](), Tag: `json:"ulimits,omitempty"`},
		reflect.StructField{Name: "CapAdd", Type: reflect.TypeFor[[]string](), Tag: `json:"cap_add,omitempty"`},
		reflect.StructField{Name: "Sysctls", Type: reflect.TypeFor[map[string]string](), Tag: `json:"sysctls,omitempty"`},
		reflect.StructField{Name: "Privileged", Type: reflect.TypeFor[bool](), Tag: `json:"privileged,omitempty"`},
		reflect.StructField{Name: "MemLimit", Type: reflect.TypeFor[int64](), Tag: `json:"mem_limit,omitempty"`},
		reflect.StructField{Name: "LogOpts", Type: reflect.TypeFor[struct{ Driver string }](), Tag: `json:"log_opts,omitzero"`},
	)
	newer := reflect.StructOf(fields)

	p := mustLoad(t, LoadOptions{WorkingDir: stackDir(t)})
	for _, s := range p.Services {
		v := reflect.New(newer).Elem()
		old := reflect.ValueOf(s)
		for i := range typ.NumField() {
			v.Field(i).Set(old.Field(i))
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(s.Canonical()) {
			t.Errorf("service %s: a newer Service with zero new fields encodes as\n %s\nnot\n %s", s.Name, b, s.Canonical())
		}
		// And an old berth reading a newer canonical form ignores what it does not know.
		back, err := ParseCanonical(append(b[:len(b)-1:len(b)-1], []byte(`,"privileged":true}`)...))
		if err != nil || ConfigHash(back) != ConfigHash(s) {
			t.Errorf("service %s: parsing a newer canonical form: %v", s.Name, err)
		}
	}
}

// The rule the upgrade property rests on: every field of the canonical
// encoding is omitted when empty.
func TestCanonicalTagsOmitZero(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type)
	check = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() != reflect.TypeFor[Service]().PkgPath() {
			return
		}
		seen[typ] = true
		if typ.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
			return // encoded as its text, which the golden canonical form pins
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := strings.Split(f.Tag.Get("json"), ",")
			if tag[0] == "" || tag[0] == "-" || !(slices.Contains(tag, "omitempty") || slices.Contains(tag, "omitzero")) {
				t.Errorf("%s.%s: json tag %q lacks a name or omitempty/omitzero", typ.Name(), f.Name, f.Tag.Get("json"))
			}
			check(f.Type)
		}
	}
	check(reflect.TypeFor[Service]())
	if len(seen) < 5 {
		t.Errorf("checked %d types, want Service, ServiceNetwork, Mount, Port, Dependency", len(seen))
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	p := mustLoad(t, LoadOptions{WorkingDir: stackDir(t), Profiles: []string{"debug"}})
	for _, s := range p.Services {
		back, err := ParseCanonical(s.Canonical())
		if err != nil {
			t.Fatalf("service %s: %v", s.Name, err)
		}
		sameService(t, back, s)
		if ConfigHash(back) != ConfigHash(s) || len(Diff(back, s)) != 0 {
			t.Errorf("service %s: hash or Diff changed through a round trip", s.Name)
		}
	}
	if _, err := ParseCanonical([]byte("{not json")); err == nil {
		t.Error("ParseCanonical accepted garbage")
	}
}

// Canonical normalises on its own and never mutates its argument, so
// services built by hand (as the reconciler's tests do) hash like loaded ones.
func TestCanonicalNormalisesHandBuilt(t *testing.T) {
	a := Service{
		Name:        "x",
		Environment: map[string]string{},
		Ports:       []Port{{Target: 443, Protocol: "tcp"}, {Target: 80, Protocol: "tcp"}},
		Networks:    map[string]ServiceNetwork{"n": {Aliases: []string{"b", "a", "a"}}},
	}
	b := Service{
		Name:     "x",
		Ports:    []Port{{Target: 80, Protocol: "tcp"}, {Target: 443, Protocol: "tcp"}},
		Networks: map[string]ServiceNetwork{"n": {Aliases: []string{"a", "b"}}},
	}
	if ConfigHash(a) != ConfigHash(b) {
		t.Errorf("hashes differ:\n%s\n%s", a.Canonical(), b.Canonical())
	}
	if a.Ports[0].Target != 443 || a.Networks["n"].Aliases[0] != "b" {
		t.Error("Canonical reordered its argument's slices")
	}
}

// A service's canonical form, and so its config hash, stays the same from
// one berth to the next: a change recreates every container on upgrade.
// The golden file holds the canonical form of every service of the test
// stack (its directory written as $DIR); BERTH_UPDATE_GOLDEN=1 rewrites it,
// which must only happen with a deliberate hash change.
func TestCanonicalFormIsStable(t *testing.T) {
	dir := stackDir(t)
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	var b strings.Builder
	for _, s := range p.Services {
		b.WriteString(strings.ReplaceAll(string(s.hashed().Canonical()), dir, "$DIR"))
	}
	const golden = "testdata/canonical.golden"
	if os.Getenv("BERTH_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("the canonical form changed:\n%s\nwant:\n%s", b.String(), want)
	}
}
