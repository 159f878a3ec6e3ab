package spec

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/schema"
)

// effect is what a case proves an accepted key does.
type effect int

const (
	hashed  effect = iota + 1 // web's config hash changes: its containers are recreated
	valued                    // the converted project changes (a field the planner reads), the hash does not
	refused                   // the value is checked: berth refuses this one with the file, line and key
	loosens                   // berth refuses the base and accepts the variant: the key makes a stack valid
	info                      // accepted without effect, for the reason given (the project must not change)
	nested                    // a mapping or list whose values are proven by the cases of its keys
)

// keyCase proves the effect of one accepted attribute path: the project
// loaded with web's lines `was` and top-level lines `top` is compared with
// the one loaded with `now` and `topNow` ("" for each: the same as before).
type keyCase struct {
	path        string
	was, now    string // lines under services.web, unindented
	top, topNow string // top-level lines
	want        effect
	why         string // for info
}

func svc(path, was, now string, want effect) keyCase {
	return keyCase{path: path, was: was, now: now, want: want}
}

func top(path, was, now string, want effect) keyCase {
	return keyCase{path: path, top: was, topNow: now, want: want}
}

func informational(path, why, was, now string) keyCase {
	return keyCase{path: path, was: was, now: now, want: info, why: why}
}

func structure(paths ...string) []keyCase {
	var out []keyCase
	for _, p := range paths {
		out = append(out, keyCase{path: p, want: nested})
	}
	return out
}

const (
	swarmOnly   = "swarm only: Docker Compose ignores it on one host too"
	developOnly = "develop is `docker compose watch`'s, which berth does not have; it changes no container (a read-only bind its watch paths name is digested, which spec/watch_test.go proves)"
	metadata    = "metadata for tools, as in Docker Compose: it changes no container"
)

// keyCases has one case per attribute path berth accepts. Keys allowed
// later get their case here; TestEveryAcceptedKeyHasAnEffect fails until
// they do.
var keyCases = slices.Concat(structure(
	"configs", "configs.*", "configs.*.external", "configs.*.labels", "include", "models", "models.*",
	"networks.*.driver_opts", "networks.*.external", "networks.*.labels",
	"secrets", "secrets.*", "secrets.*.external", "secrets.*.labels",
	"services.*.configs", "services.*.depends_on", "services.*.depends_on.*", "services.*.deploy",
	"services.*.deploy.labels", "services.*.deploy.placement", "services.*.deploy.placement.preferences",
	"services.*.deploy.rollback_config", "services.*.deploy.update_config",
	"services.*.develop", "services.*.develop.watch", "services.*.develop.watch.[].exec",
	"services.*.develop.watch.[].exec.environment",
	"services.*.env_file", "services.*.environment", "services.*.extends", "services.*.extra_hosts",
	"services.*.healthcheck", "services.*.labels", "services.*.logging", "services.*.networks",
	"services.*.networks.*", "services.*.ports", "services.*.secrets", "services.*.volumes",
	"services.*.volumes.[].bind", "services.*.volumes.[].tmpfs", "services.*.volumes.[].volume",
	"volumes.*.driver_opts", "volumes.*.external", "volumes.*.labels",
), []keyCase{
	// top level
	{path: "name", top: "name: one", topNow: "name: two", want: valued},
	{path: "include.[].path", topNow: "include:\n  - path: other.yaml", want: valued},
	{path: "include.[].project_directory", top: "include:\n  - path: other.yaml", topNow: "include:\n  - path: other.yaml\n    project_directory: sub", want: valued},
	{path: "include.[].env_file", top: "include:\n  - path: other.yaml", topNow: "include:\n  - path: other.yaml\n    env_file: other.env", want: valued},
	{path: "models.*.model", top: "models:\n  m:\n    model: ai/a", topNow: "models:\n  m:\n    model: ai/b", want: info, why: "no service can use a model (services.*.models is refused)"},
	{path: "models.*.name", top: "models:\n  m:\n    model: ai/a", topNow: "models:\n  m:\n    model: ai/a\n    name: n", want: info, why: "no service can use a model (services.*.models is refused)"},
	{path: "models.*.context_size", top: "models:\n  m:\n    model: ai/a", topNow: "models:\n  m:\n    model: ai/a\n    context_size: 9", want: info, why: "no service can use a model (services.*.models is refused)"},
	{path: "models.*.runtime_flags", top: "models:\n  m:\n    model: ai/a", topNow: "models:\n  m:\n    model: ai/a\n    runtime_flags: [x]", want: info, why: "no service can use a model (services.*.models is refused)"},

	top("configs.*.content", "configs:\n  c:\n    content: a", "configs:\n  c:\n    content: b", valued),
	top("configs.*.environment", "configs:\n  c:\n    environment: A", "configs:\n  c:\n    environment: B", valued),
	top("configs.*.file", "configs:\n  c:\n    file: ./a.txt", "configs:\n  c:\n    file: ./b.txt", valued),
	top("configs.*.name", "configs:\n  c:\n    file: ./a.txt", "configs:\n  c:\n    file: ./a.txt\n    name: n", valued),
	top("configs.*.external.name", "configs:\n  c:\n    external: true", "configs:\n  c:\n    external:\n      name: n", valued),
	{path: "configs.*.labels.*", top: "configs:\n  c:\n    file: ./a.txt", topNow: "configs:\n  c:\n    file: ./a.txt\n    labels: {a: b}", want: info, why: swarmOnly},
	top("secrets.*.environment", "secrets:\n  s:\n    environment: A", "secrets:\n  s:\n    environment: B", valued),
	top("secrets.*.file", "secrets:\n  s:\n    file: ./a.txt", "secrets:\n  s:\n    file: ./b.txt", valued),
	top("secrets.*.name", "secrets:\n  s:\n    file: ./a.txt", "secrets:\n  s:\n    file: ./a.txt\n    name: n", valued),
	top("secrets.*.external.name", "secrets:\n  s:\n    external: true", "secrets:\n  s:\n    external:\n      name: n", valued),
	{path: "secrets.*.labels.*", top: "secrets:\n  s:\n    file: ./a.txt", topNow: "secrets:\n  s:\n    file: ./a.txt\n    labels: {a: b}", want: info, why: swarmOnly},

	top("networks.*.name", "networks:\n  n: {}", "networks:\n  n:\n    name: other", valued),
	top("networks.*.driver", "networks:\n  n: {}", "networks:\n  n:\n    driver: macvlan", refused),
	top("networks.*.internal", "networks:\n  n: {}", "networks:\n  n:\n    internal: true", valued),
	top("networks.*.external.name", "networks:\n  n:\n    external: true", "networks:\n  n:\n    external:\n      name: other", valued),
	top("networks.*.labels.*", "networks:\n  n: {}", "networks:\n  n:\n    labels: {a: b}", valued),
	{path: "networks.*.attachable", top: "networks:\n  n: {}", topNow: "networks:\n  n:\n    attachable: true", want: info, why: "only swarm-scoped networks use it; a bridge takes any container on the host"},
	top("networks.*.enable_ipv4", "networks:\n  n: {}", "networks:\n  n:\n    enable_ipv4: false", refused),
	top("networks.*.enable_ipv6", "networks:\n  n: {}", "networks:\n  n:\n    enable_ipv6: true", valued),
	top("networks.*.driver_opts.*", "networks:\n  n: {}", "networks:\n  n:\n    driver_opts: {com.docker.network.driver.mtu: 1400}", valued),
	top("networks.*.ipam.driver", "networks:\n  n: {}", "networks:\n  n:\n    ipam:\n      driver: other", refused),
	top("networks.*.ipam.config.[].subnet", "networks:\n  n: {}", "networks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.99.0.0/24", valued),
	top("networks.*.ipam.config.[].gateway", "networks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.99.0.0/24", "networks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.99.0.0/24\n          gateway: 10.99.0.254", valued),
	top("networks.*.ipam.config.[].ip_range", "networks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.99.0.0/24", "networks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.99.0.0/24\n          ip_range: 10.99.0.128/25", valued),

	top("volumes.*.name", "volumes:\n  v: {}", "volumes:\n  v:\n    name: other", valued),
	top("volumes.*.driver", "volumes:\n  v: {}", "volumes:\n  v:\n    driver: nfs", refused),
	top("volumes.*.external.name", "volumes:\n  v:\n    external: true", "volumes:\n  v:\n    external:\n      name: other", valued),
	top("volumes.*.labels.*", "volumes:\n  v: {}", "volumes:\n  v:\n    labels: {a: b}", valued),
	top("volumes.*.driver_opts.*", "volumes:\n  v: {}", "volumes:\n  v:\n    driver_opts: {type: tmpfs, device: tmpfs}", valued),

	// services
	svc("services.*.image", "", "image: busybox:2", hashed),
	svc("services.*.pull_policy", "", "pull_policy: always", valued),
	svc("services.*.command", "", "command: [sh]", hashed),
	svc("services.*.entrypoint", "", "entrypoint: [sh]", hashed),
	svc("services.*.environment.*", "", "environment: {A: b}", hashed),
	svc("services.*.env_file.[].path", "", "env_file: [a.env]", hashed),
	svc("services.*.env_file.[].required", "env_file: [missing.env]", "env_file:\n  - path: missing.env\n    required: false", loosens),
	svc("services.*.env_file.[].format", "env_file: [a.env]", "env_file:\n  - path: a.env\n    format: raw", refused),
	svc("services.*.working_dir", "", "working_dir: /tmp", hashed),
	svc("services.*.user", "", "user: nobody", hashed),
	svc("services.*.hostname", "", "hostname: h", hashed),
	svc("services.*.domainname", "", "domainname: d.test", hashed),
	svc("services.*.mac_address", "", "mac_address: 02:42:ac:11:00:99", hashed),
	svc("services.*.networks.*.aliases", "networks: [n]", "networks:\n  n:\n    aliases: [x]", hashed),
	svc("services.*.networks.*.ipv4_address", "networks: [n]", "networks:\n  n:\n    ipv4_address: 10.99.0.9", hashed),
	svc("services.*.networks.*.ipv6_address", "networks: [n]", "networks:\n  n:\n    ipv6_address: fd00::9", hashed),
	svc("services.*.networks.*.mac_address", "networks: [n]", "networks:\n  n:\n    mac_address: 02:42:ac:11:00:98", hashed),
	svc("services.*.network_mode", "", "network_mode: host", hashed),
	svc("services.*.volumes.[].type", "", "volumes:\n  - type: tmpfs\n    target: /t", hashed),
	svc("services.*.volumes.[].source", "volumes: ['/tmp:/x']", "volumes: ['/var:/x']", hashed),
	svc("services.*.volumes.[].target", "volumes: ['/tmp:/x']", "volumes: ['/tmp:/y']", hashed),
	svc("services.*.volumes.[].read_only", "volumes: ['/tmp:/x']", "volumes: ['/tmp:/x:ro']", hashed),
	svc("services.*.volumes.[].bind.propagation", "volumes: ['/tmp:/x']", "volumes:\n  - type: bind\n    source: /tmp\n    target: /x\n    bind:\n      propagation: shared", hashed),
	svc("services.*.volumes.[].bind.create_host_path", "volumes:\n  - type: bind\n    source: ./d\n    target: /x", "volumes:\n  - type: bind\n    source: ./d\n    target: /x\n    bind:\n      create_host_path: false", hashed),
	svc("services.*.volumes.[].volume.nocopy", "volumes: ['v:/x']", "volumes:\n  - type: volume\n    source: v\n    target: /x\n    volume:\n      nocopy: true", hashed),
	svc("services.*.volumes.[].tmpfs.size", "volumes:\n  - type: tmpfs\n    target: /t", "volumes:\n  - type: tmpfs\n    target: /t\n    tmpfs:\n      size: 1000", hashed),
	svc("services.*.volumes.[].tmpfs.mode", "volumes:\n  - type: tmpfs\n    target: /t", "volumes:\n  - type: tmpfs\n    target: /t\n    tmpfs:\n      mode: 0700", hashed),
	informational("services.*.volumes.[].consistency", "macOS file sharing's, as Docker ignores it on Linux", "volumes: ['/tmp:/x']", "volumes:\n  - type: bind\n    source: /tmp\n    target: /x\n    consistency: cached"),
	svc("services.*.tmpfs", "", "tmpfs: [/t]", hashed),
	svc("services.*.ports.[].target", "ports: ['80']", "ports: ['81']", hashed),
	svc("services.*.ports.[].published", "ports: ['80']", "ports: ['8080:80']", hashed),
	svc("services.*.ports.[].host_ip", "ports: ['8080:80']", "ports: ['127.0.0.1:8080:80']", hashed),
	svc("services.*.ports.[].protocol", "ports: ['80']", "ports: ['80/udp']", hashed),
	informational("services.*.ports.[].mode", swarmOnly+" (ingress is the routing mesh)", "ports: ['80']", "ports:\n  - target: 80\n    mode: host"),
	informational("services.*.ports.[].name", metadata, "ports: ['80']", "ports:\n  - target: 80\n    name: web"),
	informational("services.*.ports.[].app_protocol", metadata, "ports: ['80']", "ports:\n  - target: 80\n    app_protocol: http"),
	svc("services.*.expose", "", "expose: ['80']", valued),
	svc("services.*.depends_on.*.condition", "depends_on: [db]", "depends_on:\n  db:\n    condition: service_healthy", valued),
	svc("services.*.depends_on.*.required", "depends_on: [db]", "depends_on:\n  db:\n    condition: service_started\n    required: false", valued),
	svc("services.*.depends_on.*.restart", "depends_on: [db]", "depends_on:\n  db:\n    condition: service_started\n    restart: true", valued),
	svc("services.*.stop_signal", "", "stop_signal: SIGINT", hashed),
	svc("services.*.stop_grace_period", "", "stop_grace_period: 3s", hashed),
	svc("services.*.restart", "", "restart: always", hashed),
	svc("services.*.labels.*", "", "labels: {a: b}", hashed),
	svc("services.*.label_file", "", "label_file: labels.txt", hashed),
	svc("services.*.scale", "", "scale: 2", valued),
	svc("services.*.deploy.replicas", "", "deploy:\n  replicas: 2", valued),
	svc("services.*.deploy.mode", "", "deploy:\n  mode: global", refused),
	informational("services.*.deploy.endpoint_mode", swarmOnly, "", "deploy:\n  endpoint_mode: dnsrr"),
	informational("services.*.deploy.labels.*", swarmOnly+" (labels of the swarm service, not of its containers)", "", "deploy:\n  labels: {a: b}"),
	informational("services.*.deploy.placement.constraints", swarmOnly, "", "deploy:\n  placement:\n    constraints: [node.role==manager]"),
	informational("services.*.deploy.placement.max_replicas_per_node", swarmOnly, "", "deploy:\n  placement:\n    max_replicas_per_node: 1"),
	informational("services.*.deploy.placement.preferences.[].spread", swarmOnly, "", "deploy:\n  placement:\n    preferences:\n      - spread: node.labels.zone"),
	svc("services.*.tty", "", "tty: true", hashed),
	svc("services.*.stdin_open", "", "stdin_open: true", hashed),
	svc("services.*.init", "", "init: true", hashed),
	svc("services.*.read_only", "", "read_only: true", hashed),
	svc("services.*.profiles", "", "profiles: [p]", valued),
	svc("services.*.extends.service", "", "extends:\n  service: db", hashed),
	svc("services.*.extends.file", "", "extends:\n  file: other.yaml\n  service: other", hashed),
	svc("services.*.logging.driver", "", "logging:\n  driver: syslog", refused),
	svc("services.*.platform", "", "platform: linux/arm64", hashed),
	svc("services.*.extra_hosts.*", "", "extra_hosts: ['a.test:10.0.0.1']", hashed),
	svc("services.*.dns", "", "dns: 9.9.9.9", hashed),
	svc("services.*.dns_search", "", "dns_search: d.test", hashed),
	svc("services.*.dns_opt", "", "dns_opt: [ndots:1]", hashed),
	svc("services.*.volumes_from", "", "volumes_from: [db]", hashed),
	svc("services.*.container_name", "", "container_name: fixed", hashed),
	svc("services.*.links", "", "links: [db]", hashed),
	svc("services.*.external_links", "", "external_links: ['legacy:l']", hashed),
	svc("services.*.attach", "", "attach: false", valued),
	svc("services.*.healthcheck.test", "", "healthcheck:\n  test: [CMD, 'true']", hashed),
	svc("services.*.healthcheck.disable", "healthcheck:\n  test: [CMD, 'true']", "healthcheck:\n  test: [CMD, 'true']\n  disable: true", hashed),
	svc("services.*.healthcheck.interval", "healthcheck:\n  test: [CMD, 'true']", "healthcheck:\n  test: [CMD, 'true']\n  interval: 9s", hashed),
	svc("services.*.healthcheck.timeout", "healthcheck:\n  test: [CMD, 'true']", "healthcheck:\n  test: [CMD, 'true']\n  timeout: 9s", hashed),
	svc("services.*.healthcheck.retries", "healthcheck:\n  test: [CMD, 'true']", "healthcheck:\n  test: [CMD, 'true']\n  retries: 9", hashed),
	svc("services.*.healthcheck.start_period", "healthcheck:\n  test: [CMD, 'true']", "healthcheck:\n  test: [CMD, 'true']\n  start_period: 9s", hashed),
	svc("services.*.healthcheck.start_interval", "healthcheck:\n  test: [CMD, 'true']", "healthcheck:\n  test: [CMD, 'true']\n  start_interval: 9s", hashed),
	svc("services.*.configs.[].source", "", "configs: [c]", hashed),
	svc("services.*.configs.[].target", "configs: [c]", "configs:\n  - source: c\n    target: /etc/c", hashed),
	svc("services.*.configs.[].mode", "configs: [c]", "configs:\n  - source: c\n    mode: 0400", hashed),
	svc("services.*.configs.[].uid", "configs: [c]", "configs:\n  - source: c\n    uid: '7'", hashed),
	svc("services.*.configs.[].gid", "configs: [c]", "configs:\n  - source: c\n    gid: '7'", hashed),
	svc("services.*.secrets.[].source", "", "secrets: [s]", hashed),
	svc("services.*.secrets.[].target", "secrets: [s]", "secrets:\n  - source: s\n    target: t", hashed),
	svc("services.*.secrets.[].mode", "secrets: [s]", "secrets:\n  - source: s\n    mode: 0400", hashed),
	svc("services.*.secrets.[].uid", "secrets: [s]", "secrets:\n  - source: s\n    uid: '7'", hashed),
	svc("services.*.secrets.[].gid", "secrets: [s]", "secrets:\n  - source: s\n    gid: '7'", hashed),
}, developCases(), updateCases("rollback_config"), startFirstCases(), buildCases(), limitsCases(), hookCases(), securityCases())

// limitsCases are the cgroup limits (not hashed: a change is applied in
// place), the restart policy of deploy and the logging options.
func limitsCases() []keyCase {
	out := structure("services.*.blkio_config", "services.*.deploy.resources", "services.*.deploy.resources.limits",
		"services.*.deploy.resources.reservations", "services.*.deploy.restart_policy", "services.*.logging.options")
	for key, line := range map[string]string{
		"cpus": "cpus: 0.5", "cpu_period": "cpu_period: 50000", "cpu_quota": "cpu_quota: 50000", "cpu_shares": "cpu_shares: 512",
		"cpuset": "cpuset: '0'", "mem_limit": "mem_limit: 64m", "mem_reservation": "mem_reservation: 32m",
		"mem_swappiness": "mem_swappiness: 10", "memswap_limit": "mem_limit: 64m\nmemswap_limit: 128m", "pids_limit": "pids_limit: 50",
		"blkio_config.weight":                  "blkio_config:\n  weight: 300",
		"deploy.resources.limits.cpus":         "deploy:\n  resources:\n    limits:\n      cpus: '0.5'",
		"deploy.resources.limits.memory":       "deploy:\n  resources:\n    limits:\n      memory: 64m",
		"deploy.resources.limits.pids":         "deploy:\n  resources:\n    limits:\n      pids: 50",
		"deploy.resources.reservations.memory": "deploy:\n  resources:\n    reservations:\n      memory: 32m",
	} {
		want := valued
		if key == "memswap_limit" {
			out = append(out, svc("services.*."+key, "mem_limit: 64m", line, want))
			continue
		}
		out = append(out, svc("services.*."+key, "", line, want))
	}
	for _, dev := range []string{"device_read_bps", "device_read_iops", "device_write_bps", "device_write_iops"} {
		lines := "blkio_config:\n  " + dev + ":\n    - path: /dev/sda\n      rate: 1000"
		out = append(out, structure("services.*.blkio_config."+dev)...)
		out = append(out, svc("services.*.blkio_config."+dev+".[].path", "", lines, refused),
			svc("services.*.blkio_config."+dev+".[].rate", "", lines, refused))
	}
	weightDev := "blkio_config:\n  weight_device:\n    - path: /dev/sda\n      weight: 300"
	out = append(out, structure("services.*.blkio_config.weight_device")...)
	out = append(out, svc("services.*.blkio_config.weight_device.[].path", "", weightDev, refused),
		svc("services.*.blkio_config.weight_device.[].weight", "", weightDev, refused),
		informational("services.*.deploy.resources.reservations.cpus", "a Swarm scheduling hint, which Docker Compose ignores on one host too", "",
			"deploy:\n  resources:\n    reservations:\n      cpus: '0.5'"),
		svc("services.*.deploy.restart_policy.condition", "", "deploy:\n  restart_policy:\n    condition: on-failure", hashed),
		svc("services.*.deploy.restart_policy.max_attempts", "deploy:\n  restart_policy:\n    condition: on-failure",
			"deploy:\n  restart_policy:\n    condition: on-failure\n    max_attempts: 3", hashed),
		svc("services.*.deploy.restart_policy.delay", "deploy:\n  restart_policy:\n    condition: any",
			"deploy:\n  restart_policy:\n    condition: any\n    delay: 5s", hashed),
		svc("services.*.deploy.restart_policy.window", "deploy:\n  restart_policy:\n    condition: on-failure\n    max_attempts: 3",
			"deploy:\n  restart_policy:\n    condition: on-failure\n    max_attempts: 3\n    window: 5s", hashed),
		svc("services.*.logging.options.*", "logging:\n  driver: json-file", "logging:\n  driver: json-file\n  options:\n    max-size: 1m", hashed),
	)
	return out
}

// hookCases are post_start and pre_stop, part of what a container is.
func hookCases() []keyCase {
	var out []keyCase
	for _, hook := range []string{"post_start", "pre_stop"} {
		out = append(out, structure("services.*."+hook, "services.*."+hook+".[].environment")...)
		base := hook + ":\n  - command: ['true']"
		out = append(out, svc("services.*."+hook+".[].command", "", base, hashed))
		for key, line := range map[string]string{"user": "user: nobody", "privileged": "privileged: true",
			"working_dir": "working_dir: /tmp", "environment.*": "environment: {A: b}"} {
			out = append(out, svc("services.*."+hook+".[]."+strings.TrimSuffix(key, ".*"), base, base+"\n    "+line, hashed))
			if key == "environment.*" {
				out[len(out)-1].path = "services.*." + hook + ".[].environment.*"
			}
		}
	}
	return out
}

// buildCases are the build keys: what the planner builds from (not
// hashed: a change rebuilds the image, and a new image recreates).
func buildCases() []keyCase {
	out := structure("services.*.build", "services.*.build.additional_contexts", "services.*.build.args", "services.*.build.extra_hosts",
		"services.*.build.labels", "services.*.build.secrets")
	out = append(out, svc("services.*.build.context", "", "build: ./sub", valued))
	for _, c := range []struct {
		key, lines string
		want       effect
	}{
		{"args.*", "args: {A: b}", valued},
		{"dockerfile", "dockerfile: Other.Dockerfile", valued},
		{"dockerfile_inline", "dockerfile_inline: FROM busybox", valued},
		{"extra_hosts.*", "extra_hosts: ['a.test:10.0.0.1']", valued},
		{"labels.*", "labels: {a: b}", valued},
		{"network", "network: none", valued},
		{"no_cache", "no_cache: true", valued},
		{"platforms", "platforms: [windows/amd64]", refused}, // only the host's, which it builds for anyway
		{"pull", "pull: true", valued},
		{"secrets.[].source", "secrets: [s]", valued},
		{"secrets.[].target", "secrets:\n    - source: s\n      target: t", valued},
		{"secrets.[].mode", "secrets:\n    - source: s\n      mode: 0400", valued},
		{"secrets.[].uid", "secrets:\n    - source: s\n      uid: '7'", valued},
		{"secrets.[].gid", "secrets:\n    - source: s\n      gid: '7'", valued},
		{"tags", "tags: [other:1]", valued},
		{"shm_size", "shm_size: 128m", valued},
		{"additional_contexts.*", "additional_contexts: {x: ./x}", valued},
		{"target", "target: final", valued},
	} {
		out = append(out, svc("services.*.build."+c.key, "build: .", "build:\n  context: .\n  "+c.lines, c.want))
	}
	return out
}

// developCases are the develop.watch keys: all informational.
func developCases() []keyCase {
	watch := "develop:\n  watch:\n    - path: ./src\n      action: sync\n      target: /src"
	var out []keyCase
	for _, c := range []struct{ key, from, to string }{
		{"action", "action: sync", "action: rebuild"}, {"path", "path: ./src", "path: ./other"}, {"target", "target: /src", "target: /other"},
		{"ignore", "", "      ignore: [x]"}, {"include", "", "      include: [x]"}, {"initial_sync", "", "      initial_sync: true"},
		{"exec.command", "", "      exec:\n        command: [sh]"}, {"exec.environment.*", "", "      exec:\n        command: [sh]\n        environment: {A: b}"},
		{"exec.privileged", "", "      exec:\n        command: [sh]\n        privileged: true"}, {"exec.user", "", "      exec:\n        command: [sh]\n        user: nobody"},
		{"exec.working_dir", "", "      exec:\n        command: [sh]\n        working_dir: /x"},
	} {
		now := watch + "\n" + c.to
		if c.from != "" {
			now = strings.Replace(watch, c.from, c.to, 1)
		}
		out = append(out, informational("services.*.develop.watch.[]."+c.key, developOnly, watch, now))
	}
	return out
}

// updateCases are deploy.rollback_config and deploy.update_config's keys:
// swarm's rolling updates, informational.
func updateCases(block string) []keyCase {
	var out []keyCase
	for key, value := range map[string]string{"delay": "5s", "failure_action": "pause", "max_failure_ratio": "0.5", "monitor": "5s", "order": "start-first", "parallelism": "2"} {
		out = append(out, informational("services.*.deploy."+block+"."+key, swarmOnly, "", "deploy:\n  "+block+":\n    "+key+": "+value))
	}
	return out
}

// startFirstCases prove deploy.update_config: the order and, with
// start-first, parallelism, delay and failure_action rollback are read
// (outside the hash); swarm's monitor and max_failure_ratio are refused.
func startFirstCases() []keyCase {
	const sf = "deploy:\n  update_config:\n    order: start-first"
	return []keyCase{
		svc("services.*.deploy.update_config.order", "", sf, valued),
		svc("services.*.deploy.update_config.parallelism", sf, sf+"\n    parallelism: 2", valued),
		svc("services.*.deploy.update_config.delay", sf, sf+"\n    delay: 5s", valued),
		svc("services.*.deploy.update_config.failure_action", sf, sf+"\n    failure_action: rollback", valued),
		svc("services.*.deploy.update_config.monitor", sf, sf+"\n    monitor: 5s", refused),
		svc("services.*.deploy.update_config.max_failure_ratio", sf, sf+"\n    max_failure_ratio: 0.5", refused),
	}
}

// acceptedPaths are the schema paths the allow-list lets through.
func acceptedPaths() []string {
	var out []string
	for _, p := range schema.AttributePaths() {
		if under(p, supportedRoots) && !under(p, unsupportedPaths) {
			out = append(out, string(p))
		}
	}
	sort.Strings(out)
	return out
}

// keyCaseFiles are the files the cases' stacks refer to.
var keyCaseFiles = map[string]string{
	"a.env": "A=1\n", "other.env": "B=2\n", "labels.txt": "l=1\n", "a.txt": "a", "b.txt": "b",
	"other.yaml": "services:\n  other:\n    image: busybox\n    command: [other, '${B:-unset}']\n    volumes: ['./data:/data']\n",
	"sub/.keep":  "",
}

// stack is the compose file of a case: web and db, web with lines, and
// the top-level lines.
func stack(lines, topLines string) string {
	var b strings.Builder
	b.WriteString("services:\n  web:\n")
	if !strings.HasPrefix(lines, "image:") {
		b.WriteString("    image: busybox\n")
	}
	for _, l := range strings.Split(lines, "\n") {
		if l != "" {
			b.WriteString("    " + l + "\n")
		}
	}
	b.WriteString("  db:\n    image: busybox\n    command: [db]\n")
	for _, d := range []string{"networks:\n  n: {}\n", "volumes:\n  v: {}\n", "configs:\n  c:\n    file: ./a.txt\n", "secrets:\n  s:\n    file: ./a.txt\n"} {
		kind, _, _ := strings.Cut(d, "\n")
		if !strings.HasPrefix(topLines, kind) && !strings.Contains(topLines, "\n"+kind) {
			b.WriteString(d) // unless the case declares its own
		}
	}
	if topLines != "" {
		b.WriteString(topLines + "\n")
	}
	return b.String()
}

// TestEveryAcceptedKeyHasAnEffect proves, for every key the allow-list
// accepts, that setting it changes web's config hash or the converted
// project, or is refused by value, or is informational for a stated
// reason — so that no accepted key is ignored silently.
func TestEveryAcceptedKeyHasAnEffect(t *testing.T) {
	byPath := map[string]keyCase{}
	for _, c := range keyCases {
		if _, dup := byPath[c.path]; dup {
			t.Errorf("two cases for %s", c.path)
		}
		byPath[c.path] = c
	}
	accepted := acceptedPaths()
	for _, p := range accepted {
		if _, ok := byPath[p]; !ok {
			t.Errorf("accepted key %s has no case in keyCases: prove its effect, or list it as informational with a reason", p)
		}
	}
	for p := range byPath {
		if !slices.Contains(accepted, p) {
			t.Errorf("keyCases has %s, which the allow-list does not accept", p)
		}
	}
	for _, c := range keyCases {
		if c.want == nested {
			continue
		}
		t.Run(c.path, func(t *testing.T) { c.check(t) })
	}
}

// check loads the case's two stacks from one directory and compares them.
func (c keyCase) check(t *testing.T) {
	t.Helper()
	if c.want == info && c.why == "" {
		t.Fatal("an informational key needs its reason")
	}
	dir := writeProject(t, keyCaseFiles)
	load := func(lines, topLines string) (*Project, error) {
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(stack(lines, topLines)), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(context.Background(), LoadOptions{WorkingDir: dir, Environ: []string{"A=1"}})
		if p != nil {
			p.loaded = nil
		}
		return p, err
	}
	topNow := c.topNow
	if topNow == "" {
		topNow = c.top
	}
	before, err := load(c.was, c.top)
	if c.want == loosens {
		if err == nil {
			t.Fatalf("the base loads, want it refused:\n%s", stack(c.was, c.top))
		}
		if _, err := load(c.now, topNow); err != nil {
			t.Fatalf("refused: %v\n%s", err, stack(c.now, topNow))
		}
		return
	}
	if err != nil {
		t.Fatalf("the base stack does not load: %v\n%s", err, stack(c.was, c.top))
	}
	after, err := load(c.now, topNow)
	if c.want == refused {
		if err == nil {
			t.Fatalf("accepted, want it refused:\n%s", stack(c.now, topNow))
		}
		return
	}
	if err != nil {
		t.Fatalf("refused: %v\n%s", err, stack(c.now, topNow))
	}
	var hashChanged bool
	web0, ok0 := before.Service("web")
	web1, ok1 := after.Service("web")
	if ok0 && ok1 { // a profile may leave web out
		hashChanged = ConfigHash(*web0) != ConfigHash(*web1)
	}
	changed := !reflect.DeepEqual(before, after)
	switch c.want {
	case hashed:
		if !hashChanged {
			t.Errorf("web's hash did not change:\n%s", stack(c.now, topNow))
		}
	case valued:
		if hashChanged || !changed {
			t.Errorf("hash changed %v, project changed %v; want only the project changed:\n%s", hashChanged, changed, stack(c.now, topNow))
		}
	case info:
		if changed {
			t.Errorf("informational (%s), but the project changed: give it its effect's case", c.why)
		}
	}
}
