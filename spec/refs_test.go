package spec

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// What the new keys accept is checked where it is written: every problem
// is ErrInvalid and names file, line and the offending value.
func TestLoadInvalidReferencesAndOptions(t *testing.T) {
	const other = "  other:\n    image: busybox\n    profiles: [off]\n"
	tests := []struct {
		name string
		file string
		want []string
	}{
		{
			name: "network_mode service: unknown service",
			file: "services:\n  web:\n    image: x\n    network_mode: service:nope\n",
			want: []string{`compose.yaml:4: service "web": network_mode "service:nope": no service "nope" in the project`},
		},
		{
			name: "network_mode service: disabled service",
			file: "services:\n  web:\n    image: x\n    network_mode: service:other\n" + other,
			want: []string{`compose.yaml:4: service "web": network_mode "service:other": service "other" is disabled by the active profiles`},
		},
		{
			name: "volumes_from unknown service",
			file: "services:\n  web:\n    image: x\n    volumes_from:\n      - db:ro\n",
			want: []string{`compose.yaml:4: service "web": volumes_from "db:ro": no service "db" in the project`},
		},
		{
			name: "volumes_from bad mode",
			file: "services:\n  web:\n    image: x\n    volumes_from: [db:rx]\n  db:\n    image: x\n",
			want: []string{`compose.yaml:4: service "web": volumes_from "db:rx" must be`},
		},
		{
			name: "bridge name too long",
			file: "services:\n  web:\n    image: x\nnetworks:\n  default:\n    driver_opts:\n      com.docker.network.bridge.name: a-very-long-bridge-name\n",
			want: []string{`compose.yaml:7: network "default": driver_opts com.docker.network.bridge.name "a-very-long-bridge-name" must be an interface name of 1 to 15 characters`},
		},
		{
			name: "mtu not a number",
			file: "services:\n  web:\n    image: x\nnetworks:\n  default:\n    driver_opts:\n      com.docker.network.driver.mtu: jumbo\n",
			want: []string{`compose.yaml:7: network "default": driver_opts com.docker.network.driver.mtu "jumbo" must be a number`},
		},
		{
			name: "ports on another's network",
			file: "services:\n  web:\n    image: x\n    network_mode: service:db\n    ports: ['80:80']\n  db:\n    image: x\n",
			want: []string{`compose.yaml:5: service "web": conflicting options: port publishing and network_mode "service:db"`},
		},
		{
			name: "unknown local volume driver option",
			file: "services:\n  web:\n    image: x\n    volumes: [v:/v]\nvolumes:\n  v:\n    driver_opts:\n      type: tmpfs\n      uid: 1000\n",
			want: []string{`compose.yaml:9: volume "v": driver_opts "uid": the local driver takes only type, o and device`},
		},
		{
			name: "secret with two sources",
			file: "services:\n  web:\n    image: x\n    secrets: [s]\nsecrets:\n  s:\n    file: ./s.txt\n    environment: S\n",
			want: []string{"compose.yaml:6", "secrets.s", "mutually exclusive"},
		},
		{
			name: "secret with no source",
			file: "services:\n  web:\n    image: x\n    secrets: [s]\nsecrets:\n  s:\n    name: lonely\n",
			want: []string{"compose.yaml:6", "secrets.s", "one of file|environment must be set"},
		},
		{
			name: "secret variable unset",
			file: "services:\n  web:\n    image: x\n    secrets: [s]\nsecrets:\n  s:\n    environment: NOPE\n",
			want: []string{`compose.yaml:7: secret "s": environment variable NOPE is not set`},
		},
		{
			name: "secret uid and mode",
			file: "services:\n  web:\n    image: x\n    secrets:\n      - source: s\n        uid: root\n        mode: 0100000\nsecrets:\n  s:\n    file: ./s\n",
			want: []string{`compose.yaml:4: service "web": secrets "s": uid "root" is not a number`, `secrets "s": mode 0100000 is not a file mode`},
		},
		{
			name: "addresses",
			file: "services:\n  web:\n    image: x\n    mac_address: 02:42\n    dns: [dns.google]\n    extra_hosts: ['db:nowhere']\n" +
				"    networks:\n      n:\n        ipv4_address: fd00::1\n        ipv6_address: 10.0.0.1\nnetworks:\n  n: {}\n",
			want: []string{
				`compose.yaml:4: service "web": mac_address "02:42" is not an Ethernet MAC address`,
				`compose.yaml:5: service "web": dns "dns.google" is not an IP address`,
				`compose.yaml:6: service "web": extra_hosts "db": "nowhere" is not an IP address or "host-gateway"`,
				`compose.yaml:9: service "web": ipv4_address "fd00::1" is not an IPv4 address`,
				`compose.yaml:10: service "web": ipv6_address "10.0.0.1" is not an IPv6 address`,
			},
		},
		{
			name: "ipam pool",
			file: "services:\n  web:\n    image: x\nnetworks:\n  default:\n    ipam:\n      config:\n        - subnet: 10.1.0.0/16\n          gateway: 10.2.0.1\n" +
				"  b:\n    ipam:\n      config:\n        - subnet: 10.3.0.0/16\n          ip_range: 10.0.0.0/8\n",
			want: []string{
				`network "default": ipam subnet "10.1.0.0/16": gateway "10.2.0.1" is not an address of the subnet`,
				`network "b": ipam subnet "10.3.0.0/16": ip_range "10.0.0.0/8" is not a CIDR inside the subnet`,
			},
		},
		{
			name: "platform",
			file: "services:\n  web:\n    image: x\n    platform: amd64\n",
			want: []string{`compose.yaml:4: service "web": platform "amd64" must be "os/arch" or "os/arch/variant"`},
		},
		{
			name: "bind propagation",
			file: "services:\n  web:\n    image: x\n    volumes:\n      - type: bind\n        source: /a\n        target: /a\n        bind:\n          propagation: sideways\n",
			want: []string{`compose.yaml:4: service "web": bind propagation "sideways" of /a must be`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": tc.file})})
			if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnsupported) {
				t.Errorf("error %v is not (only) ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n %v\ndoes not contain\n %s", err, w)
				}
			}
		})
	}
}

// A reference problem found after compose-go failed comes with the
// unsupported keys of the same file, all at once.
func TestLoadReferenceProblemsReportedTogether(t *testing.T) {
	file := "services:\n  web:\n    image: x\n    network_mode: service:nope\n    userns_mode: host\n  side:\n    image: x\n    volumes_from: [gone]\n"
	err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
	want := `compose.yaml:4: service "web": network_mode "service:nope": no service "nope" in the project` + "\n" +
		`compose.yaml:5: service "web": userns_mode is not supported by berth yet` + "\n" +
		`compose.yaml:8: service "side": volumes_from "gone": no service "gone" in the project`
	if err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrUnsupported) {
		t.Errorf("error %v is not both ErrInvalid and ErrUnsupported", err)
	}
}

func TestLoadUnsupportedNetworkDriverOption(t *testing.T) {
	file := "services:\n  web:\n    image: x\nnetworks:\n  default:\n    driver_opts:\n      com.docker.network.bridge.enable_icc: 'false'\n"
	err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
	want := `compose.yaml:7: network "default": driver_opts com.docker.network.bridge.enable_icc is not supported by berth yet`
	if err.Error() != want || !errors.Is(err, ErrUnsupported) {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
}

func TestLoadUnsupportedFileDrivers(t *testing.T) {
	file := "services:\n  web:\n    image: x\n    configs: [c]\n    secrets: [s]\n" +
		"configs:\n  c:\n    file: ./c\n    template_driver: golang\n" +
		"secrets:\n  s:\n    file: ./s\n    driver: vault\n" +
		"volumes:\n  v:\n    driver_opts:\n      size: 10G\n"
	err := loadErr(t, LoadOptions{WorkingDir: writeProject(t, map[string]string{"compose.yaml": file})})
	want := `compose.yaml:9: config "c": template_driver is not supported by berth yet` + "\n" +
		`compose.yaml:13: secret "s": driver is not supported by berth yet` + "\n" +
		`compose.yaml:17: volume "v": driver_opts size is not supported by berth yet`
	if err.Error() != want || !errors.Is(err, ErrUnsupported) {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
}

// network_mode service: and volumes_from make the other service start
// first, unless depends_on already says how.
func TestLoadImpliedDependencies(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
services:
  app:
    image: x
    network_mode: service:net
    volumes_from: [data, container:c1]
    depends_on:
      data:
        condition: service_completed_successfully
        required: false
  net:
    image: x
  data:
    image: x
`})
	app := mustService(t, mustLoad(t, LoadOptions{WorkingDir: dir}), "app")
	want := map[string]Dependency{
		"net":  {Condition: "service_started", Required: true, Restart: true}, // compose-go's: the namespace's owner restarts its sharer
		"data": {Condition: "service_completed_successfully"},
	}
	if len(app.DependsOn) != 2 || app.DependsOn["net"] != want["net"] || app.DependsOn["data"] != want["data"] {
		t.Errorf("DependsOn = %+v, want %+v", app.DependsOn, want)
	}
	if app.NetworkMode != "service:net" || app.Networks != nil {
		t.Errorf("network_mode %q networks %v", app.NetworkMode, app.Networks)
	}
	if got := app.VolumesFrom; !slices.Equal(got, parsed[VolumesFrom]("service:data", "container:c1")) {
		t.Errorf("VolumesFrom = %v", got)
	}
}
