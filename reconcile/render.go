package reconcile

import (
	"fmt"
	"strings"
)

// symbols are the plan's one-character markers, Terraform style.
var symbols = map[Kind]string{
	Build: "+", Pull: "↓", Push: "↑", Stop: "■", CreateNetwork: "+", CreateVolume: "+", FillVolume: "+", Create: "+", Start: ">",
	WaitExit: "…", WaitHealthy: "…", WaitReady: "…", RefreshHosts: "~", Remove: "-", RemoveNetwork: "-", RemoveVolume: "-",
	Untag: "-", CollectImages: "-", Kill: "■", Pause: "‖", Unpause: ">", UpdateLimits: "~", Restore: "~", SwitchPorts: "~", Delay: "…", RecordContents: "~", Drain: "…",
}

// verbs say what each kind does, for people.
var verbs = map[Kind]string{
	Build: "build image", Pull: "pull image", Push: "push image", Stop: "stop container", CreateNetwork: "create network", CreateVolume: "create volume", FillVolume: "fill volume", Create: "create container",
	Start: "start container", WaitExit: "wait for container", WaitHealthy: "wait for healthy container", WaitReady: "wait for ready container", RefreshHosts: "update /etc/hosts of project",
	Remove: "remove container", RemoveNetwork: "remove network", RemoveVolume: "remove volume",
	Untag: "untag image", CollectImages: "delete image",
	Kill: "kill container", Pause: "pause container", Unpause: "unpause container", UpdateLimits: "update limits of", Restore: "restore container",
	Delay: "delay the rollout of service", RecordContents: "record contents of",
	Drain: "drain connections of container",
}

// Describe is the one-line human form of an action, without its reason.
func (a Action) Describe() string {
	if a.Kind == Untag && a.Image.Last {
		return "remove image " + a.Target
	}
	if a.Kind == SwitchPorts {
		return fmt.Sprintf("switch ports of %s from %s to %s", a.Service, a.Replaces, a.Target)
	}
	return verbs[a.Kind] + " " + a.Target
}

// String is the plan's stable text form, used by `berth plan` and by the
// golden tests: one line per action with its reason, warnings, and a
// summary line.
func (p Plan) String() string {
	var b strings.Builder
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "! %s\n", w)
	}
	for _, h := range p.Held {
		fmt.Fprintf(&b, "= keep container %s stopped (%s)\n", h.Container, h.Reason)
	}
	if p.Empty() {
		b.WriteString("Nothing to do: the project is up to date.\n")
		return b.String()
	}
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "%s %s (%s)\n", symbols[a.Kind], a.Describe(), a.Reason)
	}
	b.WriteString(p.Summary() + "\n")
	return b.String()
}

// Summary counts what the plan does: each container once (its creation
// and start are one create; stop, remove, create and start one recreate;
// a stop before a removal one remove), each network, volume and image
// once.
func (p Plan) Summary() string {
	var create, recreate, start, stop, remove, pull, push, untag, build, update int
	signals := map[Kind]int{} // kills, pauses, unpauses
	containers := map[string]map[Kind]bool{}
	replaced := map[string]bool{}   // taken over by a start-first successor, which counts as the recreate
	successors := map[string]bool{} // those successors
	for _, a := range p.Actions {
		switch a.Kind {
		case Push:
			push++
		case Pull:
			pull++
		case Build:
			build++
		case CreateNetwork, CreateVolume:
			create++
		case RemoveNetwork, RemoveVolume:
			remove++
		case Kill, Pause, Unpause:
			signals[a.Kind]++
		case UpdateLimits:
			update++
		case Untag:
			if a.Image.Last {
				remove++
			} else {
				untag++
			}
		case Create, Start, Stop, Remove:
			if a.OnFailure {
				continue // a rollback: done only if the rollout fails
			}
			if a.Successor != "" {
				replaced[a.Target], successors[a.Successor] = true, true
			}
			if containers[a.Target] == nil {
				containers[a.Target] = map[Kind]bool{}
			}
			containers[a.Target][a.Kind] = true
		}
	}
	for name, k := range containers {
		switch {
		case replaced[name]:
		case k[Create] && k[Remove], successors[name]:
			recreate++
		case k[Create]:
			create++
		case k[Remove]:
			remove++
		default:
			if k[Start] {
				start++
			}
			if k[Stop] {
				stop++
			}
		}
	}
	s := "Plan: "
	if build > 0 {
		s += fmt.Sprintf("%d to build, ", build)
	}
	s += fmt.Sprintf("%d to pull, %d to create, %d to recreate, %d to start, ", pull, create, recreate, start)
	// Plans of up never push, and stop alone only to restart a container
	// whose supervisor died: their summary keeps its five counts otherwise.
	if stop > 0 {
		s += fmt.Sprintf("%d to stop, ", stop)
	}
	if push > 0 {
		s += fmt.Sprintf("%d to push, ", push)
	}
	if untag > 0 {
		s += fmt.Sprintf("%d to untag, ", untag)
	}
	if update > 0 {
		s += fmt.Sprintf("%d to update, ", update)
	}
	for _, k := range []Kind{Kill, Pause, Unpause} {
		if signals[k] > 0 {
			s += fmt.Sprintf("%d to %s, ", signals[k], k)
		}
	}
	return s + fmt.Sprintf("%d to remove.", remove)
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return len(p.Actions) == 0 }

// HasPulls reports whether the plan pulls any image.
func (p Plan) HasPulls() bool {
	for _, a := range p.Actions {
		if a.Kind == Pull {
			return true
		}
	}
	return false
}

// Targets are the targets of the plan's actions of kind k.
func (p Plan) Targets(k Kind) []string {
	var out []string
	for _, a := range p.Actions {
		if a.Kind == k {
			out = append(out, a.Target)
		}
	}
	return out
}

// Only returns the plan's actions of the given kinds, with dependencies on
// dropped actions removed.
func (p Plan) Only(kinds ...Kind) Plan {
	keep := map[Kind]bool{}
	for _, k := range kinds {
		keep[k] = true
	}
	out := Plan{Project: p.Project, Warnings: p.Warnings}
	for _, a := range p.Actions {
		if keep[a.Kind] {
			a.After = nil
			out.Actions = append(out.Actions, a)
		}
	}
	return out
}
