package spec

import (
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/tree"
)

// The screening of unimplemented attributes is fail-closed: compose-go walks
// the merged model and reports every attribute that is not declared here,
// so a key the Compose specification gains later is refused until berth
// implements it. Values (network_mode: bridge, logging.driver: syslog,
// depends_on conditions…) are checked during conversion.

// supportedRoots are the model subtrees berth implements or may ignore
// because they do not change how a container runs. Everything the schema
// declares below them is accepted unless listed in unsupportedPaths.
var supportedRoots = []string{
	"name", "include", "secrets", "configs", "models", // top-level definitions are inert until a service uses them

	"services.*.image", "services.*.pull_policy", "services.*.build",
	"services.*.entrypoint", "services.*.command",
	"services.*.environment", "services.*.env_file",
	"services.*.working_dir", "services.*.user", "services.*.hostname",
	"services.*.networks", "services.*.network_mode",
	"services.*.volumes", "services.*.tmpfs", "services.*.ports",
	"services.*.depends_on", "services.*.stop_signal", "services.*.stop_grace_period",
	"services.*.restart", "services.*.labels", "services.*.label_file",
	"services.*.scale", "services.*.deploy",
	"services.*.tty", "services.*.stdin_open", "services.*.init", "services.*.read_only",
	"services.*.profiles", "services.*.extends", "services.*.logging",
	"services.*.platform", "services.*.domainname", "services.*.extra_hosts",
	"services.*.dns", "services.*.dns_search", "services.*.dns_opt", "services.*.mac_address",
	"services.*.volumes_from", "services.*.configs", "services.*.secrets", "services.*.container_name",
	"services.*.healthcheck", "services.*.attach", "services.*.links", "services.*.external_links",
	// limits (spec/limits.go)
	"services.*.cpus", "services.*.cpu_shares", "services.*.cpu_quota", "services.*.cpu_period",
	"services.*.cpuset", "services.*.mem_limit", "services.*.mem_reservation",
	"services.*.memswap_limit", "services.*.mem_swappiness", "services.*.pids_limit",
	"services.*.blkio_config",
	"services.*.post_start", "services.*.pre_stop",
	"services.*.cap_add", "services.*.cap_drop", "services.*.privileged", "services.*.security_opt",
	"services.*.devices", "services.*.device_cgroup_rules", "services.*.group_add", "services.*.cgroup",
	"services.*.sysctls", "services.*.ulimits", "services.*.shm_size", "services.*.ipc", "services.*.pid",
	"services.*.uts", "services.*.oom_score_adj",
	"services.*.gpus", "services.*.runtime", // refused with their own message in convertSecurity
	// informational: they do not change the container
	"services.*.expose", "services.*.develop",

	"networks.*.name", "networks.*.driver", "networks.*.internal", "networks.*.external",
	"networks.*.labels", "networks.*.attachable", "networks.*.enable_ipv4", "networks.*.enable_ipv6",
	"networks.*.ipam.driver", "networks.*.ipam.config.[].subnet",
	"networks.*.ipam.config.[].gateway", "networks.*.ipam.config.[].ip_range",
	"networks.*.driver_opts",

	"volumes.*.name", "volumes.*.driver", "volumes.*.external", "volumes.*.labels",
	"volumes.*.driver_opts",
}

// unsupportedPaths are subtrees of supportedRoots that berth does not
// implement yet.
var unsupportedPaths = []string{
	"services.*.networks.*.driver_opts", "services.*.networks.*.gw_priority",
	"services.*.networks.*.interface_name",
	"services.*.networks.*.link_local_ips",
	"services.*.networks.*.priority", "services.*.networks.*.use_service_name_alias",
	"services.*.volumes.[].bind.selinux",
	"services.*.volumes.[].bind.recursive",
	"services.*.volumes.[].volume.subpath", "services.*.volumes.[].volume.labels",
	"services.*.volumes.[].image",
	"services.*.deploy.resources.limits.devices", "services.*.deploy.resources.limits.generic_resources",
	"services.*.deploy.resources.reservations.devices", "services.*.deploy.resources.reservations.generic_resources",
	// swarm drivers and templating change where the content comes from
	"configs.*.driver", "configs.*.driver_opts", "configs.*.template_driver",
	"secrets.*.driver", "secrets.*.driver_opts", "secrets.*.template_driver",
}

// supportedAttributes is the allow-list handed to compose-go: every schema
// path under a supported root and under no unsupported path, plus the
// ancestors of the roots. It is computed from compose-go's schema by
// TestSupportedPaths, which writes it to supported_paths.go
// (BERTH_UPDATE_GOLDEN=1) and fails while that file is not current: from
// the schema at each load it cost every load that missed the project
// cache a parse of the whole schema (4-6 ms).
func supportedAttributes() []tree.Path { return supportedPaths }

// withScreening makes the loader report unsupported attributes into ps.
func withScreening(ps *problems) func(*loader.Options) {
	return loader.WithSupportedAttributes(supportedAttributes(), func(found []loader.UnsupportedAttribute) {
		for _, f := range found {
			path := modelParts(f.Path)
			ps.unsupported(strings.ReplaceAll(strings.Join(keyPath(path), "."), ".[]", "[]"), path...)
		}
	})
}

// modelParts splits a compose-go path into keys, undoing its escaping of
// dots inside keys.
func modelParts(p tree.Path) []string {
	parts := p.Parts()
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(s, "👻", ".")
	}
	return parts
}

// keyPath drops the resource kind and name from a model path:
// services.web.deploy.resources -> deploy.resources.
func keyPath(path []string) []string {
	if len(path) > 2 {
		switch path[0] {
		case "services", "networks", "volumes", "jobs", "configs", "secrets":
			return path[2:]
		}
	}
	return path
}
