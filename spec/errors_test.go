package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestLoadInvalidFiles(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // fragments of the error
	}{
		{
			name:  "unknown key",
			files: map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    imagee: y\n"},
			want:  []string{"compose.yaml:4", "services.web.imagee", `unknown key "imagee"`},
		},
		{
			name: "unknown key in the override file",
			files: map[string]string{
				"compose.yaml":          "services:\n  web:\n    image: x\n",
				"compose.override.yaml": "services:\n  web:\n    tty: true\n    stdin: true\n",
			},
			want: []string{"compose.override.yaml:4", "services.web.stdin", "unknown key"},
		},
		{
			name:  "wrong type",
			files: map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    ports: 80\n"},
			want:  []string{"compose.yaml:4", "services.web.ports must be a array"},
		},
		{
			name:  "wrong scalar",
			files: map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    tty: maybe\n"},
			want:  []string{"compose.yaml:4", "services.web.tty", "maybe"},
		},
		{
			name:  "bad yaml",
			files: map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n   bad: [\n"},
			want:  []string{"compose.yaml", "line 3"},
		},
		{
			name:  "undefined network",
			files: map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    networks: [nope]\n"},
			want:  []string{"compose.yaml", `service "web"`, "nope"},
		},
		{
			name:  "bad restart policy",
			files: map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    restart: sometimes\n"},
			want:  []string{"compose.yaml:4", `service "web": restart "sometimes"`},
		},
		{
			name:  "bad tmpfs size",
			files: map[string]string{"compose.yaml": "services:\n  web:\n    image: x\n    tmpfs: [/run:size=lots]\n"},
			want:  []string{"compose.yaml:4", `service "web": tmpfs "/run:size=lots"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, tc.files)})
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if errors.Is(err, ErrUnsupported) {
				t.Errorf("error %v is ErrUnsupported", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// Every feature berth lacks that would change how a container runs must
// be refused, naming file, service and key, never silently dropped.
func TestLoadUnsupported(t *testing.T) {
	tests := []struct {
		yaml string // lines added under services.web
		want string
		line int // of the offending key, when not the first added line (4)
	}{
		{"build:\n  context: .\n  cache_from: [x]", "build.cache_from", 6},
		{"userns_mode: host", "userns_mode", 0},
		{"security_opt: [systempaths=unconfined]", "security_opt systempaths", 0},
		{"network_mode: bridge", "network_mode bridge", 0},
		{"logging:\n  driver: syslog", `logging driver syslog (berth has "json-file", "local" and "none")`, 5},
		{"logging:\n  driver: json-file\n  options:\n    tag: x", "logging option tag of driver json-file", 7},
		{"tmpfs: ['/run:noexec']", `tmpfs option "noexec"`, 0},
		{"volumes:\n  - type: bind\n    source: .\n    target: /x\n    bind:\n      selinux: z", "volumes[].bind.selinux", 0},
		{"networks:\n  default:\n    interface_name: eth1", "networks.default.interface_name", 6},
		{"networks:\n  default:\n    link_local_ips: [169.254.1.1]", "networks.default.link_local_ips", 6},
		{"ports:\n  - '5000:5000/sctp'", "ports protocol sctp", 0},
	}
	const tail = `
  other:
    image: busybox
secrets:
  s:
    file: ./s.txt
configs:
  c:
    file: ./c.txt
`
	indent := func(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
	var all []string
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			file := "services:\n  web:\n    image: busybox\n" + indent(tc.yaml) + tail
			err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
			if !errors.Is(err, ErrUnsupported) || errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not (only) ErrUnsupported", err)
			}
			line := tc.line
			if line == 0 {
				line = 4
			}
			want := fmt.Sprintf(`compose.yaml:%d: service "web": %s is not supported by berth yet`, line, tc.want)
			if err.Error() != want {
				t.Errorf("error\n %q\nwant\n %q", err, want)
			}
		})
		if !strings.HasPrefix(tc.yaml, "network_mode") && !strings.HasPrefix(tc.yaml, "logging") &&
			!strings.HasPrefix(tc.yaml, "depends_on") &&
			!strings.HasPrefix(tc.yaml, "deploy") && !strings.HasPrefix(tc.yaml, "volumes") &&
			!strings.HasPrefix(tc.yaml, "tmpfs") && !strings.HasPrefix(tc.yaml, "networks") &&
			!strings.HasPrefix(tc.yaml, "ports") {
			all = append(all, indent(tc.yaml))
		}
	}

	t.Run("all reported together", func(t *testing.T) {
		file := "services:\n  web:\n    image: busybox\n" + strings.Join(all, "\n") + tail +
			"networks:\n  n:\n    driver: overlay\n    ipam:\n      config:\n        - subnet: 10.9.0.0/16\n          aux_addresses:\n            a: 10.9.0.5\n" +
			"volumes:\n  v:\n    driver: nfs\n"
		err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
		lines := strings.Split(err.Error(), "\n")
		if want := len(all) + 3; len(lines) != want {
			t.Errorf("%d problems reported, want %d:\n%v", len(lines), want, err)
		}
		for _, w := range []string{`network "n": driver overlay`, `network "n": ipam.config[].aux_addresses`, `volume "v": driver nfs`} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error does not report %q:\n%v", w, err)
			}
		}
	})
}

func TestLoadInformationalKeysAccepted(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
x-shared: &shared
  image: busybox
services:
  web:
    <<: *shared
    expose: ["80"]
    attach: false
    x-note: ignored by everyone
    logging:
      driver: json-file
    deploy:
      mode: replicated
      replicas: 2
      labels:
        a: b
    ports:
      - target: 80
        published: "8080"
        name: http
        app_protocol: http
`})
	if s := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir}), "web"); s.Scale != 2 || !s.NoAttach {
		t.Errorf("scale %d, want 2; attach: false read as NoAttach %v", s.Scale, s.NoAttach)
	}
}
