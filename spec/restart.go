package spec

import (
	"strconv"

	"github.com/compose-spec/compose-go/v2/types"
)

// deployRestart is the restart policy deploy.restart_policy asks for, as
// Docker Compose maps it onto the engine's (pkg/compose/create.go
// getRestartPolicy): it takes precedence over restart; condition none is
// "no", any is "always", on-failure keeps max_attempts as its retry count.
// delay and window are Swarm's: Compose hands them to no container, and
// neither does berth. ok is false when the service has none.
func deployRestart(cs types.ServiceConfig, ps *problems) (policy string, ok bool) {
	if cs.Deploy == nil || cs.Deploy.RestartPolicy == nil {
		return "", false
	}
	at := serviceAt(cs.Name)
	rp := cs.Deploy.RestartPolicy
	switch rp.Condition {
	case "none", "no", "":
		// No condition maps to the engine's empty policy, "no", in Compose.
		policy = types.RestartPolicyNo
	case "any", "always":
		policy = types.RestartPolicyAlways
	case "on-failure", "unless-stopped":
		policy = rp.Condition
	default:
		ps.invalid("deploy.restart_policy.condition "+strconv.Quote(rp.Condition)+` must be "none", "on-failure" or "any"`, at("deploy", "restart_policy", "condition")...)
		return "", false
	}
	if rp.MaxAttempts != nil && *rp.MaxAttempts > 0 {
		if policy != "on-failure" {
			// Docker's daemon refuses a retry count with any other policy.
			ps.invalid("deploy.restart_policy.max_attempts cannot be used with condition "+strconv.Quote(rp.Condition)+" (Docker: maximum retry count cannot be used with restart policy '"+policy+"')",
				at("deploy", "restart_policy", "max_attempts")...)
			return "", false
		}
		policy += ":" + strconv.FormatUint(*rp.MaxAttempts, 10)
	}
	return policy, true
}
