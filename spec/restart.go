package spec

import (
	"strconv"
	"strings"
	"time"

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

// deployRestartTiming is what deploy.restart_policy's delay and window,
// Swarm's, mean to berth's own supervisor for policy: delay is the wait
// between an exit and the next start in place of Docker's growing
// back-off (0s: at once); window, with max_attempts, counts only the
// restarts within the last window toward it, as Swarm's restart
// supervisor does. Either is nil where it has no effect: both with policy
// "no", window without a retry count (on-failure:N).
func deployRestartTiming(cs types.ServiceConfig, policy string, ps *problems) (delay, window *time.Duration) {
	if cs.Deploy == nil || cs.Deploy.RestartPolicy == nil || policy == types.RestartPolicyNo {
		return nil, nil
	}
	at := serviceAt(cs.Name)
	rp := cs.Deploy.RestartPolicy
	duration := func(key string, d *types.Duration) *time.Duration {
		if d == nil {
			return nil
		}
		if *d < 0 {
			ps.invalid("deploy.restart_policy."+key+" "+time.Duration(*d).String()+" must not be negative", at("deploy", "restart_policy", key)...)
			return nil
		}
		v := time.Duration(*d)
		return &v
	}
	delay = duration("delay", rp.Delay)
	if window = duration("window", rp.Window); window != nil && (*window == 0 || !strings.HasPrefix(policy, "on-failure:")) {
		window = nil // no retry count to bound, or no window: no effect
	}
	return delay, window
}
