package spec

import (
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// Update orders of deploy.update_config.order.
const (
	StopFirst  = "stop-first"  // the old container stops before its successor starts (the default)
	StartFirst = "start-first" // the successor starts, becomes ready and takes the ports before the old one stops
)

// UpdateConfig is how a service's containers are replaced when they must
// be recreated (deploy.update_config). Nil is Compose's behaviour:
// stop-first, every container at once.
type UpdateConfig struct {
	Order string `json:"order,omitempty"` // StopFirst or StartFirst
	// Parallelism is how many containers a start-first rollout replaces
	// at once; 0 means all of them.
	Parallelism int `json:"parallelism,omitempty"`
	// Delay is the pause between two batches of a start-first rollout.
	Delay time.Duration `json:"delay,omitempty"`
	// FailureAction is what a start-first rollout does when a new
	// container does not become ready: "rollback" (the only one berth
	// implements): the new container is removed, the old one keeps running.
	FailureAction string `json:"failure_action,omitempty"`
}

// StartFirst reports whether s's containers are replaced start-first.
func (s Service) StartFirst() bool { return s.Update != nil && s.Update.Order == StartFirst }

// convertUpdate reads deploy.update_config, refusing what berth does not
// do: the orders other than stop-first and start-first, failure actions
// other than rollback, monitor and max_failure_ratio (swarm's), and
// parallelism or delay of a stop-first update (berth replaces stop-first
// containers all at once, as Compose does).
func convertUpdate(s *Service, cs types.ServiceConfig, cp *types.Project, ps *problems, at func(...string) []string) {
	if cs.Deploy == nil || cs.Deploy.UpdateConfig == nil {
		return
	}
	uc := cs.Deploy.UpdateConfig
	key := func(k string) []string { return at("deploy", "update_config", k) }
	u := UpdateConfig{Order: uc.Order, Delay: time.Duration(uc.Delay), FailureAction: uc.FailureAction}
	switch u.Order {
	case "":
		u.Order = StopFirst
	case StopFirst, StartFirst:
	default:
		ps.invalid("deploy.update_config.order "+strconv.Quote(uc.Order)+` must be "stop-first" or "start-first"`, key("order")...)
	}
	if uc.Parallelism != nil {
		u.Parallelism = int(*uc.Parallelism)
	}
	switch u.FailureAction {
	case "", "rollback":
	case "pause", "continue":
		ps.unsupported("deploy.update_config.failure_action "+u.FailureAction+" (berth rolls a failed start-first container back)", key("failure_action")...)
	default:
		ps.invalid("deploy.update_config.failure_action "+strconv.Quote(u.FailureAction)+` must be "rollback", "pause" or "continue"`, key("failure_action")...)
	}
	if uc.Monitor != 0 {
		ps.unsupported("deploy.update_config.monitor", key("monitor")...)
	}
	if uc.MaxFailureRatio != 0 {
		ps.unsupported("deploy.update_config.max_failure_ratio", key("max_failure_ratio")...)
	}
	if u.Order != StartFirst {
		if u.Parallelism != 0 {
			ps.unsupported("deploy.update_config.parallelism with order stop-first", key("parallelism")...)
		}
		if u.Delay != 0 {
			ps.unsupported("deploy.update_config.delay with order stop-first", key("delay")...)
		}
		if u.FailureAction != "" {
			ps.unsupported("deploy.update_config.failure_action with order stop-first", key("failure_action")...)
		}
	}
	if u.Order == StartFirst && s.ContainerName != "" {
		ps.invalid("deploy.update_config.order start-first needs two containers of the service at once, so container_name cannot be set", key("order")...)
	}
	if u.Order == StartFirst {
		if user := sharer(cs.Name, cp); user != "" {
			ps.unsupported("deploy.update_config.order start-first of a service whose first container "+user+" uses (network_mode or volumes_from)", key("order")...)
		}
	}
	s.Update = &u
}

// sharer names a service of cp that joins the network namespace of, or
// mounts the volumes of, service name's first container; "" if none.
func sharer(name string, cp *types.Project) string {
	for other, cs := range cp.Services {
		if cs.NetworkMode == "service:"+name {
			return other
		}
		for _, v := range cs.VolumesFrom {
			if src, _, _ := strings.Cut(v, ":"); src == name {
				return other
			}
		}
	}
	return ""
}
