package spec

// securityCases prove the effect of the keys that confine a container
// (spec/security.go): each is hashed, gpus and runtime other than runc
// are refused.
func securityCases() []keyCase {
	out := structure("services.*.devices", "services.*.sysctls", "services.*.ulimits", "services.*.ulimits.*", "services.*.gpus")
	for key, line := range map[string]string{
		"cap_add": "cap_add: [NET_ADMIN]", "cap_drop": "cap_drop: [ALL]", "privileged": "privileged: true",
		"security_opt": "security_opt: [no-new-privileges]", "device_cgroup_rules": "device_cgroup_rules: ['c 1:3 r']",
		"group_add": "group_add: ['42']", "cgroup": "cgroup: host", "ipc": "ipc: host", "pid": "pid: host",
		"oom_score_adj": "oom_score_adj: 100", "uts": "uts: host", "shm_size": "shm_size: 1m", "sysctls.*": "sysctls: {net.core.somaxconn: '1'}",
		"ulimits.*.soft": "ulimits: {nofile: {soft: 10, hard: 20}}", "ulimits.*.hard": "ulimits: {nofile: {soft: 10, hard: 30}}",
		"devices.[].source":      "devices: [{source: /dev/null, target: /dev/x}]",
		"devices.[].target":      "devices: [{source: /dev/null, target: /dev/y}]",
		"devices.[].permissions": "devices: [{source: /dev/null, target: /dev/x, permissions: r}]",
	} {
		was := ""
		switch key {
		case "ulimits.*.hard":
			was = "ulimits: {nofile: {soft: 10, hard: 20}}"
		case "devices.[].target", "devices.[].permissions":
			was = "devices: [{source: /dev/null, target: /dev/x}]"
		}
		out = append(out, svc("services.*."+key, was, line, hashed))
	}
	for key, line := range map[string]string{
		"gpus.[].driver": "gpus: [{driver: nvidia}]", "gpus.[].count": "gpus: [{count: 1}]",
		"gpus.[].device_ids": "gpus: [{device_ids: ['0']}]", "gpus.[].capabilities": "gpus: [{capabilities: [gpu]}]",
		"gpus.[].options": "gpus: [{options: {a: b}}]", "gpus.[].options.*": "gpus: [{options: {a: b}}]",
		"runtime": "runtime: nvidia",
	} {
		out = append(out, svc("services.*."+key, "", line, refused))
	}
	return out
}
