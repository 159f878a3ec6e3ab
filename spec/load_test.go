package spec

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadStack(t *testing.T) {
	dir := stackDir(t)
	p := mustLoad(t, LoadOptions{WorkingDir: dir, Environ: []string{"PASSTHROUGH=from-os"}})

	if p.Name != "stack" {
		t.Errorf("Name = %q, want the directory name %q", p.Name, "stack")
	}
	if p.WorkingDir != dir {
		t.Errorf("WorkingDir = %q, want %q", p.WorkingDir, dir)
	}
	wantFiles := []string{filepath.Join(dir, "compose.yaml"), filepath.Join(dir, "compose.override.yaml")}
	if !reflect.DeepEqual(p.Files, wantFiles) {
		t.Errorf("Files = %q, want %q (the override file is discovered)", p.Files, wantFiles)
	}
	// debug and tools are behind profiles; tools would not even load (userns_mode).
	if got, want := serviceNames(p), []string{"api", "backup", "cache", "db", "web", "worker"}; !reflect.DeepEqual(got, want) {
		t.Errorf("services = %q, want %q", got, want)
	}

	sameService(t, mustService(t, p, "web"), Service{
		Name:       "web",
		Image:      "nginx:1.27", // ${WEB_IMAGE:-nginx:1.27}
		PullPolicy: "missing",
		Command:    []string{"nginx", "-g", "daemon off;"},
		Environment: map[string]string{
			"API_URL":     "http://api:8080",
			"FROM_DOTENV": "from-dotenv", // ${DOTENV_VALUE} from .env
			"PASSTHROUGH": "from-os",     // bare key, taken from the environment
			"OVERRIDDEN":  "yes",         // merged from compose.override.yaml
			// NOT_SET_ANYWHERE: bare key, unset: left out
		},
		Networks: map[string]ServiceNetwork{
			"front": {Aliases: []string{"site", "www"}, IPv6Address: addr("fd00:1::10"), MacAddress: "02:42:ac:11:00:10"},
			"back":  {},
		},
		Mounts: []Mount{
			{Type: MountBind, Source: filepath.Join(dir, "html"), Target: "/usr/share/nginx/html", ReadOnly: true, CreateHostPath: true},
			{Type: MountVolume, Source: "cache", Target: "/var/cache/nginx", NoCopy: true},
			{Type: MountTmpfs, Target: "/tmp", TmpfsSize: 16 << 20},
			{Type: MountBind, Source: filepath.Join(dir, "conf"), Target: "/etc/nginx/conf.d", Propagation: "rshared"},
			{Type: MountBind, Source: filepath.Join(dir, "logs"), Target: "/var/log/nginx", CreateHostPath: true, Propagation: "rslave"}, // short syntax
			{Type: MountTmpfs, Target: "/run", TmpfsSize: 8 << 20, TmpfsMode: 0o1777},
		},
		Ports: []Port{
			{Published: published("5353"), Target: 53, Protocol: "udp"},
			{Published: published("8080"), Target: 80, Protocol: "tcp"},
			{Published: published("8081"), Target: 81, Protocol: "tcp"}, // from the override file
			{HostIP: addr("127.0.0.1"), Published: published("8443"), Target: 443, Protocol: "tcp"},
			{Published: published("9000"), Target: 9000, Protocol: "tcp"}, // 9000-9001:9000-9001, one Port each
			{Published: published("9001"), Target: 9001, Protocol: "tcp"},
		},
		DependsOn: map[string]Dependency{
			"api":   {Condition: "service_started", Required: true},
			"cache": {Condition: "service_started", Required: false},
		},
		StopSignal:      "SIGQUIT",
		StopGracePeriod: ptr(30 * time.Second),
		Restart:         "unless-stopped", // from the YAML anchor
		Labels:          map[string]string{"com.example.stack": "demo"},
		Scale:           1,
		Platform:        "linux/amd64",
		Domainname:      "example.test",
		// Sorted by host, one host's addresses in file order; "=" and
		// "[…]" spellings normalised.
		ExtraHosts: parsed[ExtraHost]("db.local:10.0.0.5", "db.local:10.0.0.6", "host.docker.internal:host-gateway", "v6.local:fd00::1"),
		DNS:        []string{"1.1.1.1"}, // a single string
		DNSSearch:  []string{"example.test", "corp.test"},
		DNSOpt:     []string{"ndots:2", "timeout:1"},
		Configs: []FileRef{ // sorted by target
			{Source: "banner", Target: "/etc/nginx/banner.txt", Mode: ptr(uint32(0o440))},
			{Source: "nginx_conf", Target: "/nginx_conf"}, // Compose's default target for a config
		},
		Secrets: []FileRef{{Source: "shared_cert", Target: "/run/secrets/shared_cert"}},
	})

	api := Service{
		Name:        "api",
		Image:       "example/api:1.2.3", // ${API_TAG:?…} from .env
		PullPolicy:  "missing",
		Entrypoint:  []string{"/bin/api"},
		Environment: map[string]string{"API_KEY": "abc123", "LOG_LEVEL": "info"}, // environment beats env_file
		WorkingDir:  "/srv",
		User:        "1000:1000",
		Hostname:    "api-host",
		Networks:    map[string]ServiceNetwork{"back": {IPv4Address: addr("172.28.0.10")}},
		DependsOn:   map[string]Dependency{"db": {Condition: "service_started", Required: true}},
		Restart:     "no",
		Scale:       2, // deploy.replicas
		Expose:      []string{"8080/tcp"},
		ExtraHosts:  parsed[ExtraHost]("metrics.local:10.0.0.7"), // map syntax
		DNS:         []string{"10.0.0.2", "10.0.0.3"},
		DNSSearch:   []string{"corp.test"},
		Secrets: []FileRef{
			{Source: "db_password", Target: "/run/secrets/db_password"},
			// a relative secret target goes under /run/secrets
			{Source: "api_token", Target: "/run/secrets/token", UID: ptr(1000), GID: ptr(1000), Mode: ptr(uint32(0o400))},
		},
	}
	sameService(t, mustService(t, p, "api"), api)

	// worker extends api within the file.
	worker := api
	worker.Name = "worker"
	worker.Command = []string{"worker", "--queue", "default"}
	worker.Networks = map[string]ServiceNetwork{"back": {}}
	worker.Scale = 1
	sameService(t, mustService(t, p, "worker"), worker)

	sameService(t, mustService(t, p, "db"), Service{
		Name:        "db",
		Image:       "postgres:16",
		PullPolicy:  "missing",
		Environment: map[string]string{"POSTGRES_PASSWORD": "secret"}, // ${DB_PASSWORD:-secret}
		Networks:    map[string]ServiceNetwork{"back": {}},
		Mounts: []Mount{
			{Type: MountVolume, Source: "db-data", Target: "/var/lib/postgresql/data"},
			{Type: MountVolume, Target: "/var/lib/postgresql/backup"}, // anonymous
		},
		Restart: "no",
		Labels:  map[string]string{"com.example.role": "database"},
		Scale:   1,
		Init:    true,
	})

	sameService(t, mustService(t, p, "cache"), Service{
		Name:       "cache",
		Image:      "redis:7",
		PullPolicy: "missing",
		Entrypoint: []string{}, // reset, not the image's
		Networks:   map[string]ServiceNetwork{"default": {}},
		Restart:    "no",
		Scale:      1,
		Tty:        true,
		StdinOpen:  true,
		ReadOnly:   true,
		MacAddress: "02:42:ac:11:00:20",
	})

	sameService(t, mustService(t, p, "backup"), Service{
		Name:        "backup",
		Image:       "busybox",
		PullPolicy:  "missing",
		Command:     []string{"sh", "-c", "tar czf /backup/db.tgz /var/lib/postgresql/data"},
		NetworkMode: "service:db", // and no networks
		Mounts:      []Mount{{Type: MountVolume, Source: "nfs-backup", Target: "/backup"}},
		// network_mode and volumes_from services start first; the
		// namespace's owner restarts its sharer (compose-go's restart: true)
		DependsOn: map[string]Dependency{
			"db":    {Condition: "service_started", Required: true, Restart: true},
			"cache": {Condition: "service_started", Required: true},
		},
		VolumesFrom: parsed[VolumesFrom]("service:db:ro", "service:cache", "container:legacy-box:rw"),
		Restart:     "no",
		Scale:       1,
	})

	wantNetworks := map[string]Network{
		"default": {Name: "stack_default", Driver: "bridge"},
		"front": {Name: "stack_front", Driver: "bridge", EnableIPv6: true, MTU: 1400,
			IPAM:       []IPAMPool{{Subnet: netip.MustParsePrefix("fd00:1::/64")}},
			DriverOpts: map[string]string{"com.docker.network.bridge.name": "br-stack-front", "com.docker.network.driver.mtu": "1400"}},
		"back": {Name: "stack_back", Driver: "bridge",
			IPAM:   []IPAMPool{{Subnet: netip.MustParsePrefix("172.28.0.0/16"), Gateway: addr("172.28.0.1"), IPRange: netip.MustParsePrefix("172.28.5.0/24")}},
			Labels: map[string]string{"com.example.tier": "back"}},
		"outside": {Name: "shared-net", Driver: "bridge", External: true},
	}
	if !reflect.DeepEqual(p.Networks, wantNetworks) {
		t.Errorf("Networks =\n %+v\nwant\n %+v", p.Networks, wantNetworks)
	}
	wantVolumes := map[string]Volume{
		"db-data": {Name: "stack_db-data", Driver: "local", Labels: map[string]string{"com.example.backup": "daily"}},
		"cache":   {Name: "stack_cache", Driver: "local"},
		"legacy":  {Name: "legacy", Driver: "local", External: true},
		"nfs-backup": {Name: "stack_nfs-backup", Driver: "local",
			DriverOpts: map[string]string{"type": "nfs", "o": "addr=10.0.0.2,ro", "device": ":/exports/backup"}},
	}
	if !reflect.DeepEqual(p.Volumes, wantVolumes) {
		t.Errorf("Volumes =\n %+v\nwant\n %+v", p.Volumes, wantVolumes)
	}
	wantConfigs := map[string]FileSource{
		"nginx_conf": {Name: "stack_nginx_conf", File: filepath.Join(dir, "nginx.conf"), Digest: sha256Hex(t, readFile(t, filepath.Join(dir, "nginx.conf")))},
		"banner":     {Name: "stack_banner", Content: "Welcome to the demo stack\n", Digest: sha256Hex(t, "Welcome to the demo stack\n")},
		// unused by any service: its unset variable is no error
		"unused": {Name: "stack_unused", Environment: "NOT_SET_ANYWHERE"},
	}
	if !reflect.DeepEqual(p.Configs, wantConfigs) {
		t.Errorf("Configs =\n %+v\nwant\n %+v", p.Configs, wantConfigs)
	}
	wantSecrets := map[string]FileSource{
		"api_token":   {Name: "stack_api_token", Environment: "API_TOKEN", Digest: sha256Hex(t, "tok-from-dotenv-7f3a9c")},
		"db_password": {Name: "stack_db_password", File: filepath.Join(dir, "db_password.txt"), Digest: sha256Hex(t, readFile(t, filepath.Join(dir, "db_password.txt")))},
		"shared_cert": {Name: "corp_cert", External: true},
	}
	if !reflect.DeepEqual(p.Secrets, wantSecrets) {
		t.Errorf("Secrets =\n %+v\nwant\n %+v", p.Secrets, wantSecrets)
	}
	if v, ok := p.LookupEnv("API_TOKEN"); !ok || v != "tok-from-dotenv-7f3a9c" {
		t.Errorf("LookupEnv(API_TOKEN) = %q, %v; want the value from .env", v, ok)
	}
	if _, ok := p.LookupEnv("NOT_SET_ANYWHERE"); ok {
		t.Error("LookupEnv found an unset variable")
	}
	if _, ok := (&Project{}).LookupEnv("API_TOKEN"); ok {
		t.Error("LookupEnv found a variable in a hand-built project")
	}
}

func TestLoadEnvironmentBeatsDotEnv(t *testing.T) {
	p := mustLoad(t, LoadOptions{WorkingDir: stackDir(t),
		Environ: []string{"DOTENV_VALUE=from-os", "WEB_IMAGE=nginx:mainline", "DB_PASSWORD=hunter2"}})
	web := mustService(t, p, "web")
	if web.Image != "nginx:mainline" || web.Environment["FROM_DOTENV"] != "from-os" {
		t.Errorf("web image %q FROM_DOTENV %q, want the environment's values", web.Image, web.Environment["FROM_DOTENV"])
	}
	if got := mustService(t, p, "db").Environment["POSTGRES_PASSWORD"]; got != "hunter2" {
		t.Errorf("POSTGRES_PASSWORD = %q, want hunter2 (${DB_PASSWORD:-secret})", got)
	}
}

// compose-go's WithDotEnv does nothing unless WithEnvFiles ran before it:
// check that the project's .env really feeds interpolation.
func TestLoadDotEnvInterpolates(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": "services:\n  app:\n    image: ${IMG}\n    environment:\n      GREETING: ${GREETING:-unset}\n",
		".env":         "IMG=busybox:1.36\nGREETING=hello from .env\n",
	})
	app := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir}), "app")
	if app.Image != "busybox:1.36" || app.Environment["GREETING"] != "hello from .env" {
		t.Errorf("image %q GREETING %q: .env was not used for interpolation", app.Image, app.Environment["GREETING"])
	}

	t.Run("explicit env file replaces .env", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "other.env"), "IMG=alpine:3\n")
		app := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir, EnvFiles: []string{"other.env"}}), "app")
		if app.Image != "alpine:3" || app.Environment["GREETING"] != "unset" {
			t.Errorf("image %q GREETING %q, want alpine:3 and unset", app.Image, app.Environment["GREETING"])
		}
	})
	t.Run("COMPOSE_DISABLE_ENV_FILE", func(t *testing.T) {
		app := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir,
			Environ: []string{"COMPOSE_DISABLE_ENV_FILE=1", "IMG=x:1"}}), "app")
		if app.Environment["GREETING"] != "unset" {
			t.Errorf("GREETING %q: .env was read although disabled", app.Environment["GREETING"])
		}
	})
	t.Run("missing explicit env file", func(t *testing.T) {
		err := loadErr(t, LoadOptions{WorkingDir: dir, EnvFiles: []string{"nope.env"}})
		if !strings.Contains(err.Error(), "nope.env") {
			t.Errorf("error %q does not name the missing file", err)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRequiredVariable(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.env")
	writeFile(t, empty, "")
	err := loadErr(t, LoadOptions{WorkingDir: stackDir(t), EnvFiles: []string{empty}})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("error %v is not ErrInvalid", err)
	}
	for _, want := range []string{"compose.yaml", "services.api.image", "API_TAG must be set"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestLoadProjectName(t *testing.T) {
	const file = "services:\n  app:\n    image: busybox\n"
	parent := t.TempDir()
	dir := filepath.Join(parent, "My.App_1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "compose.yaml"), file)

	tests := []struct {
		name    string
		o       LoadOptions
		dotenv  string
		want    string
		network string
	}{
		{name: "directory name, normalised", want: "myapp_1"},
		{name: "COMPOSE_PROJECT_NAME", o: LoadOptions{Environ: []string{"COMPOSE_PROJECT_NAME=fromenv"}}, want: "fromenv"},
		{name: "COMPOSE_PROJECT_NAME in .env", dotenv: "COMPOSE_PROJECT_NAME=fromdotenv\n", want: "fromdotenv"},
		{name: "-p beats the environment", o: LoadOptions{ProjectName: "flag", Environ: []string{"COMPOSE_PROJECT_NAME=fromenv"}}, want: "flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(filepath.Join(dir, ".env"))
			if tc.dotenv != "" {
				writeFile(t, filepath.Join(dir, ".env"), tc.dotenv)
			}
			tc.o.WorkingDir = dir
			p := mustLoad(t, tc.o)
			if p.Name != tc.want {
				t.Errorf("Name = %q, want %q", p.Name, tc.want)
			}
			if got := p.Networks["default"].Name; got != tc.want+"_default" {
				t.Errorf("default network %q, want %q", got, tc.want+"_default")
			}
		})
	}

	t.Run("invalid -p", func(t *testing.T) {
		err := loadErr(t, LoadOptions{WorkingDir: dir, ProjectName: "Bad Name"})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("error %v is not ErrInvalid", err)
		}
	})
	t.Run("name in file", func(t *testing.T) {
		d := writeProject(t, map[string]string{"compose.yaml": "name: named\n" + file})
		if p := mustLoad(t, LoadOptions{WorkingDir: d}); p.Name != "named" {
			t.Errorf("Name = %q, want named", p.Name)
		}
	})
}

func TestLoadFileSelection(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"base.yaml":                   "services:\n  app:\n    image: busybox\n    command: [base]\n",
		"extra.yaml":                  "services:\n  app:\n    command: [extra]\n  side:\n    image: alpine\n",
		"docker-compose.yml":          "services:\n  legacy:\n    image: busybox\n",
		"sub/deeper/.keep":            "",
		"other/compose.yml":           "services:\n  other:\n    image: busybox\n",
		"other/compose.override.yaml": "services:\n  other:\n    tty: true\n",
	})
	names := func(p *Project) string { return strings.Join(serviceNames(p), ",") }

	t.Run("COMPOSE_FILE", func(t *testing.T) {
		p := mustLoad(t, LoadOptions{WorkingDir: dir, Environ: []string{"COMPOSE_FILE=base.yaml:extra.yaml"}})
		if names(p) != "app,side" || !reflect.DeepEqual(mustService(t, p, "app").Command, []string{"extra"}) {
			t.Errorf("services %s, app command %q: COMPOSE_FILE not merged in order", names(p), mustService(t, p, "app").Command)
		}
	})
	t.Run("COMPOSE_PATH_SEPARATOR", func(t *testing.T) {
		p := mustLoad(t, LoadOptions{WorkingDir: dir, Environ: []string{"COMPOSE_FILE=base.yaml,extra.yaml", "COMPOSE_PATH_SEPARATOR=,"}})
		if names(p) != "app,side" {
			t.Errorf("services %s, want app,side", names(p))
		}
	})
	t.Run("-f beats COMPOSE_FILE", func(t *testing.T) {
		p := mustLoad(t, LoadOptions{WorkingDir: dir, Files: []string{"base.yaml"}, Environ: []string{"COMPOSE_FILE=extra.yaml"}})
		if names(p) != "app" {
			t.Errorf("services %s, want app", names(p))
		}
	})
	t.Run("discovery walks up", func(t *testing.T) {
		p := mustLoad(t, LoadOptions{WorkingDir: filepath.Join(dir, "sub", "deeper")})
		if names(p) != "legacy" || p.WorkingDir != dir {
			t.Errorf("services %s in %s, want legacy from docker-compose.yml in %s", names(p), p.WorkingDir, dir)
		}
	})
	t.Run("discovery with override", func(t *testing.T) {
		p := mustLoad(t, LoadOptions{WorkingDir: filepath.Join(dir, "other")})
		if !mustService(t, p, "other").Tty || len(p.Files) != 2 {
			t.Errorf("files %q: override not applied", p.Files)
		}
	})
	t.Run("project directory", func(t *testing.T) {
		p := mustLoad(t, LoadOptions{WorkingDir: dir, ProjectDir: "other"})
		if names(p) != "other" || p.Name != "other" {
			t.Errorf("project %s services %s, want other", p.Name, names(p))
		}
	})
	t.Run("none found", func(t *testing.T) {
		err := loadErr(t, LoadOptions{WorkingDir: t.TempDir()})
		if !errors.Is(err, ErrNoComposeFile) {
			t.Errorf("error %v is not ErrNoComposeFile", err)
		}
	})
}

func TestLoadProfiles(t *testing.T) {
	dir := stackDir(t)
	debugOnly := func(t *testing.T, p *Project) {
		t.Helper()
		debug := mustService(t, p, "debug")
		if debug.NetworkMode != "host" || debug.Networks != nil {
			t.Errorf("debug: network_mode %q networks %v, want host and none", debug.NetworkMode, debug.Networks)
		}
		if !reflect.DeepEqual(debug.Command, []string{"sleep", "infinity"}) || !reflect.DeepEqual(debug.Profiles, []string{"debug"}) {
			t.Errorf("debug: command %q profiles %q", debug.Command, debug.Profiles)
		}
		if _, ok := p.Service("tools"); ok {
			t.Error("tools is enabled although its profile is not")
		}
		if !slices.Contains(p.Disabled, "tools") || slices.Contains(p.Disabled, "debug") {
			t.Errorf("disabled services: %v", p.Disabled)
		}
	}
	t.Run("--profile", func(t *testing.T) {
		debugOnly(t, mustLoad(t, LoadOptions{WorkingDir: dir, Profiles: []string{"debug"}}))
	})
	t.Run("COMPOSE_PROFILES", func(t *testing.T) {
		debugOnly(t, mustLoad(t, LoadOptions{WorkingDir: dir, Environ: []string{"COMPOSE_PROFILES=debug"}}))
	})
	t.Run("enabling a service with unsupported keys fails", func(t *testing.T) {
		err := loadErr(t, LoadOptions{WorkingDir: dir, Profiles: []string{"tools"}})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `service "tools": userns_mode`) {
			t.Errorf("error %v, want ErrUnsupported naming tools' userns_mode", err)
		}
	})
}

func TestLoadDefaults(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
services:
  a:
    image: busybox
    command: echo "hello world"
    pull_policy: if_not_present
    scale: 3
    networks: {}
    volumes:
      - type: bind
        source: ./data
        target: /data
  b:
    image: busybox
    network_mode: none
    restart: on-failure:3
    ports:
      - "80"
      - "127.0.0.1::53/udp"
`})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	sameService(t, mustService(t, p, "a"), Service{
		Name: "a", Image: "busybox", PullPolicy: "missing",
		Command:  []string{"echo", "hello world"},
		Networks: map[string]ServiceNetwork{"default": {}},
		Mounts:   []Mount{{Type: MountBind, Source: filepath.Join(dir, "data"), Target: "/data", CreateHostPath: true}},
		Restart:  "no", Scale: 3,
	})
	sameService(t, mustService(t, p, "b"), Service{
		Name: "b", Image: "busybox", PullPolicy: "missing", NetworkMode: "none",
		Ports: []Port{
			{HostIP: addr("127.0.0.1"), Target: 53, Protocol: "udp"},
			{Target: 80, Protocol: "tcp"},
		},
		Restart: "on-failure:3", Scale: 1,
	})
	if _, ok := p.Networks["default"]; !ok {
		t.Error(`implicit "default" network missing`)
	}
}

func TestLoadDeclaredDefaultNetwork(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
services:
  a:
    image: busybox
networks:
  default:
    name: my-net
    internal: true
`})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	want := Network{Name: "my-net", Driver: "bridge", Internal: true}
	if got := p.Networks["default"]; !reflect.DeepEqual(got, want) {
		t.Errorf("default network %+v, want %+v", got, want)
	}
}

func TestLoadIncludeAndExtendsFile(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": `include:
  - sub/inc.yaml
services:
  web:
    extends:
      file: common.yaml
      service: base
    ports: ["8000-8010:80"]
    volumes: ["/abs:/abs:ro"]
`,
		"common.yaml":  "services:\n  base:\n    image: busybox\n    environment: [A=1]\n    volumes: [./rel:/rel]\n",
		"sub/inc.yaml": "services:\n  inc:\n    image: alpine\n    volumes: [./data:/data]\n",
	})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	sameService(t, mustService(t, p, "web"), Service{
		Name: "web", Image: "busybox", PullPolicy: "missing",
		Environment: map[string]string{"A": "1"},
		Networks:    map[string]ServiceNetwork{"default": {}},
		Mounts: []Mount{
			{Type: MountBind, Source: filepath.Join(dir, "rel"), Target: "/rel", CreateHostPath: true},
			{Type: MountBind, Source: "/abs", Target: "/abs", ReadOnly: true, CreateHostPath: true},
		},
		Ports:   []Port{{Published: published("8000-8010"), Target: 80, Protocol: "tcp"}}, // a host range for one port stays a range
		Restart: "no", Scale: 1,
	})
	// Relative paths of an included file are relative to that file.
	if got := mustService(t, p, "inc").Mounts[0].Source; got != filepath.Join(dir, "sub", "data") {
		t.Errorf("included bind source %q, want %q", got, filepath.Join(dir, "sub", "data"))
	}
}

func TestContainerName(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
services:
  db:
    image: busybox
    container_name: my-db
  web:
    image: busybox
`})
	p := mustLoad(t, LoadOptions{WorkingDir: dir, ProjectName: "shop"})
	db, web := mustService(t, p, "db"), mustService(t, p, "web")
	if db.Container("shop", 1) != "my-db" || web.Container("shop", 1) != "shop-web-1" {
		t.Fatalf("names %q %q", db.Container("shop", 1), web.Container("shop", 1))
	}
	for _, bad := range []string{"container_name: my-db\n    scale: 2", "container_name: -bad"} {
		dir := writeProject(t, map[string]string{"compose.yaml": "services:\n  db:\n    image: busybox\n    " + bad + "\n"})
		if err := loadErr(t, LoadOptions{WorkingDir: dir}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "container_name") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
services:
  db:
    image: busybox
    healthcheck:
      test: ["CMD-SHELL", "pg_isready"]
      interval: 2s
      timeout: 1s
      start_period: 5s
      retries: 4
  off:
    image: busybox
    healthcheck:
      disable: true
`})
	p := mustLoad(t, LoadOptions{WorkingDir: dir})
	h := mustService(t, p, "db").Healthcheck
	if h == nil || !slices.Equal(h.Test, []string{"CMD-SHELL", "pg_isready"}) || h.Interval != 2*time.Second ||
		h.Timeout != time.Second || h.StartPeriod != 5*time.Second || h.Retries != 4 {
		t.Fatalf("healthcheck %+v", h)
	}
	if off := mustService(t, p, "off").Healthcheck; off == nil || !slices.Equal(off.Test, []string{"NONE"}) {
		t.Errorf("a disabled healthcheck is NONE (the image's is off too): %+v", off)
	}
}

// label_file is read by the loader and its labels merged under the
// service's own `labels`, which win, as in Docker Compose.
func TestLoadLabelFile(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml": "services:\n  web:\n    image: busybox\n    label_file: [web.labels]\n    labels:\n      tier: front\n      owner: service\n",
		"web.labels":   "owner=file\nteam=shop\n",
	})
	p := mustLoad(t, LoadOptions{ProjectDir: dir})
	want := map[string]string{"tier": "front", "owner": "service", "team": "shop"}
	if got := p.Services[0].Labels; !reflect.DeepEqual(got, want) {
		t.Fatalf("labels %v, want %v", got, want)
	}
}
