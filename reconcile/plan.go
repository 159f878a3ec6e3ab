package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// ErrPlan marks a project that cannot be planned against this host (a
// missing external network, an absent image with pull_policy never, …).
var ErrPlan = errors.New("cannot plan")

// kindOrder is the order in which a plan lists its actions.
var kindOrder = map[Kind]int{Pull: 0, Push: 0, CreateNetwork: 1, CreateVolume: 2, Stop: 3, Remove: 4, Recreate: 5, Create: 6, Start: 7, WaitExit: 8, WaitHealthy: 8, RefreshHosts: 9, RemoveNetwork: 10, RemoveVolume: 11}

// planner accumulates one plan.
type planner struct {
	plan    Plan
	errs    []error
	byID    map[string]int      // action ID -> index in plan.Actions
	byServ  map[string][]string // service -> IDs of its container actions
	waits   map[string][]string // service -> IDs of its wait actions
	running map[string][]string // service -> its containers kept running untouched
}

func newPlanner(project string) *planner {
	return &planner{plan: Plan{Project: project}, byID: map[string]int{}, byServ: map[string][]string{}, waits: map[string][]string{}, running: map[string][]string{}}
}

func (pl *planner) add(a Action) {
	pl.byID[a.ID] = len(pl.plan.Actions)
	pl.plan.Actions = append(pl.plan.Actions, a)
}

func (pl *planner) has(id string) bool { _, ok := pl.byID[id]; return ok }

// finish returns the plan, sorted, or every problem found.
func (pl *planner) finish() (Plan, error) {
	if len(pl.errs) > 0 {
		return Plan{}, fmt.Errorf("%w: %w", ErrPlan, errors.Join(pl.errs...))
	}
	pl.sort()
	return pl.plan, nil
}

func (pl *planner) fail(format string, args ...any) {
	pl.errs = append(pl.errs, fmt.Errorf(format, args...))
}

// PlanUp decides, without any I/O, what brings the host from obs to project p.
// Every action carries its reason; the result is in a stable order.
func PlanUp(p *spec.Project, obs Observed, o Options) (Plan, error) {
	pl := newPlanner(p.Name)
	services, err := selectServices(p, o.Services)
	if err != nil {
		return Plan{}, err
	}
	for _, svc := range services {
		pl.planImage(svc, obs, o)
	}
	pl.planNetworks(p, services, obs)
	pl.planVolumes(p, services, obs)
	byService := map[string][]Container{}
	for _, c := range obs.Containers {
		byService[c.Service] = append(byService[c.Service], c)
	}
	for _, svc := range services {
		pl.planContainers(p, svc, byService[svc.Name], obs, o)
	}
	pl.warnPulledImages(services)
	pl.planOrphans(p, obs, o)
	pl.followSharedNamespaces(p, services, o)
	pl.linkDependencies(services)
	pl.planHosts()
	return pl.finish()
}

// selectServices returns the named services and, transitively, those they
// depend on, in project order; all services when names is empty.
func selectServices(p *spec.Project, names []string) ([]spec.Service, error) {
	if len(names) == 0 {
		return p.Services, nil
	}
	want := map[string]bool{}
	var visit func(string) error
	visit = func(name string) error {
		if want[name] {
			return nil
		}
		svc, ok := p.Service(name)
		if !ok {
			return errNoService(name)
		}
		want[name] = true
		for dep := range svc.DependsOn {
			if err := visit(dep); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	var out []spec.Service
	for _, s := range p.Services {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out, nil
}

func pullID(ref string) string { return "pull:" + ref }

func (pl *planner) planImage(svc spec.Service, obs Observed, o Options) {
	id := pullID(svc.Image)
	if pl.has(id) || o.SkipPull {
		return
	}
	_, present := obs.Images[svc.Image]
	switch {
	case svc.PullPolicy == "always":
		pl.add(Action{ID: id, Kind: Pull, Target: svc.Image, Reason: "pull_policy is always", Platform: svc.Platform})
	case present:
	case svc.PullPolicy == "never":
		pl.fail("service %q: image %q is not present and pull_policy is never", svc.Name, svc.Image)
	default:
		pl.add(Action{ID: id, Kind: Pull, Target: svc.Image, Reason: "not present", Platform: svc.Platform})
	}
}

func (pl *planner) planNetworks(p *spec.Project, services []spec.Service, obs Observed) {
	for _, key := range usedKeys(services, func(s spec.Service) []string { return mapKeys(s.Networks) }) {
		n, ok := p.Networks[key]
		if !ok {
			pl.fail("network %q is used but not declared", key)
			continue
		}
		state := obs.Networks[n.Name]
		switch {
		case state.Changed != "":
			pl.fail("network %s: %s changed in the stack file, and a network cannot change in place: run `berth down` to recreate it", n.Name, state.Changed)
		case state.Exists:
		case n.External:
			pl.fail("network %s declared as external, but could not be found", n.Name)
		default:
			reason := "does not exist"
			if state.Recorded {
				reason = "its bridge or its firewall rules are gone from the host"
			}
			n := n
			pl.add(Action{ID: "network:" + n.Name, Kind: CreateNetwork, Target: n.Name, Reason: reason, Network: &n, Key: key})
		}
	}
}

func (pl *planner) planVolumes(p *spec.Project, services []spec.Service, obs Observed) {
	keys := usedKeys(services, func(s spec.Service) []string {
		var ks []string
		for _, m := range s.Mounts {
			if m.Type == spec.MountVolume && m.Source != "" {
				ks = append(ks, m.Source)
			}
		}
		return ks
	})
	for _, key := range keys {
		v, ok := p.Volumes[key]
		if !ok {
			pl.fail("volume %q is used but not declared", key)
			continue
		}
		state := obs.Volumes[v.Name]
		switch {
		case state.Exists:
		case v.External:
			pl.fail("volume %s declared as external, but could not be found", v.Name)
		default:
			reason := "does not exist"
			if state.Recorded {
				reason = "its directory is gone from the host"
			}
			v := v
			pl.add(Action{ID: "volume:" + v.Name, Kind: CreateVolume, Target: v.Name, Reason: reason, Volume: &v, Key: key})
		}
	}
}

func (pl *planner) planContainers(p *spec.Project, svc spec.Service, existing []Container, obs Observed, o Options) {
	hash := containerHash(p, svc)
	imageID, imagePresent := obs.Images[svc.Image]
	byNumber := map[int]Container{}
	for _, c := range existing {
		byNumber[c.Number] = c
	}
	timeout := stopTimeout(svc, o)
	for n := 1; n <= svc.Scale; n++ {
		name := svc.Container(p.Name, n)
		id := "container:" + name
		cs := containerSpec(p, svc, name, n, hash)
		c, ok := byNumber[n]
		var kind Kind
		var reason string
		switch {
		case !ok:
			kind, reason = Create, "new container"
		case c.State == lifecycle.Missing:
			kind, reason = Recreate, "the container is gone from the host"
		case c.Hash == "":
			kind, reason = Recreate, "its last creation failed"
		case c.Drift != "":
			kind, reason = Recreate, c.Drift
		case o.ForceRecreate:
			kind, reason = Recreate, "--force-recreate"
		case c.Hash != hash:
			kind, reason = Recreate, changedReason(c.Spec, svc)
		case imagePresent && c.ImageID != imageID:
			kind, reason = Recreate, fmt.Sprintf("image changed (%s -> %s)", short(c.ImageID), short(imageID))
		case !c.State.Active():
			kind, reason = Start, fmt.Sprintf("not running (%s, exit code %d)", c.State, c.ExitCode)
		default:
			pl.running[svc.Name] = append(pl.running[svc.Name], name)
			continue
		}
		a := Action{ID: id, Kind: kind, Target: name, Service: svc.Name, Reason: reason, Timeout: timeout}
		if kind != Start {
			a.Container = cs
		}
		pl.add(a)
		pl.byServ[svc.Name] = append(pl.byServ[svc.Name], id)
	}
	for _, c := range existing {
		if c.Number > svc.Scale {
			pl.add(Action{ID: "container:" + c.Name, Kind: Remove, Target: c.Name, Service: svc.Name, Reason: fmt.Sprintf("scaled down to %d", svc.Scale), Timeout: timeout})
		}
	}
}

// warnPulledImages says where `up` may do more than this plan: a service
// whose image is pulled first but whose containers the plan keeps (or only
// starts) is recreated too when the registry has another image than the
// local one; this plan cannot know before the pull.
func (pl *planner) warnPulledImages(services []spec.Service) {
	for _, svc := range services {
		if !pl.has(pullID(svc.Image)) {
			continue
		}
		kept := slices.Clone(pl.running[svc.Name])
		for _, id := range pl.byServ[svc.Name] {
			if a := pl.plan.Actions[pl.byID[id]]; a.Kind == Start {
				kept = append(kept, a.Target)
			}
		}
		if len(kept) > 0 {
			pl.plan.Warnings = append(pl.plan.Warnings, fmt.Sprintf("image %s is pulled first: if the registry's differs from the local one, up also recreates %s", svc.Image, strings.Join(kept, ", ")))
		}
	}
}

// followSharedNamespaces recreates the containers of a service with
// network_mode service:S when S's container is made anew: they live in its
// network namespace, which goes with it.
func (pl *planner) followSharedNamespaces(p *spec.Project, services []spec.Service, o Options) {
	for _, svc := range services {
		target, ok := strings.CutPrefix(svc.NetworkMode, "service:")
		if !ok || !pl.remade(target) {
			continue
		}
		reason := fmt.Sprintf("it shares the network of %s, which is recreated", target)
		hash := containerHash(p, svc)
		for n := 1; n <= svc.Scale; n++ {
			name := svc.Container(p.Name, n)
			id := "container:" + name
			a := Action{ID: id, Kind: Recreate, Target: name, Service: svc.Name, Reason: reason, Timeout: stopTimeout(svc, o),
				Container: containerSpec(p, svc, name, n, hash)}
			if i, ok := pl.byID[id]; ok {
				if pl.plan.Actions[i].Kind == Start {
					pl.plan.Actions[i] = a
				}
				continue
			}
			pl.add(a)
			pl.byServ[svc.Name] = append(pl.byServ[svc.Name], id)
		}
		pl.running[svc.Name] = nil
	}
}

// remade reports whether the plan creates or recreates a container of service.
func (pl *planner) remade(service string) bool {
	for _, id := range pl.byServ[service] {
		if k := pl.plan.Actions[pl.byID[id]].Kind; k == Create || k == Recreate {
			return true
		}
	}
	return false
}

// containerHash is what a container records to know whether it is still
// what the project wants: the service's config hash and the real names of
// the networks and volumes its keys resolve to (a `name:` change moves it
// to other objects without changing the service itself).
func containerHash(p *spec.Project, svc spec.Service) string {
	var names []string
	for key := range svc.Networks {
		names = append(names, "network "+key+"="+p.Networks[key].Name)
	}
	for _, m := range svc.Mounts {
		if m.Type == spec.MountVolume && m.Source != "" {
			names = append(names, "volume "+m.Source+"="+p.Volumes[m.Source].Name)
		}
	}
	sort.Strings(names)
	h := sha256.Sum256([]byte(spec.ConfigHash(svc) + "\x00" + strings.Join(names, "\x00")))
	return hex.EncodeToString(h[:])
}

// changedReason names the fields that differ between the recorded and the
// desired spec.
func changedReason(old, cur spec.Service) string {
	fields := spec.Diff(old, cur)
	if len(fields) == 0 {
		return "its networks or volumes are other objects now (a name: changed)"
	}
	return strings.Join(fields, ", ") + " changed"
}

func containerSpec(p *spec.Project, svc spec.Service, name string, n int, hash string) *ContainerSpec {
	cs := &ContainerSpec{Project: p.Name, Name: name, Number: n, Hash: hash, Service: svc,
		Networks: map[string]spec.Network{}, Volumes: map[string]spec.Volume{}}
	for key := range svc.Networks {
		cs.Networks[key] = p.Networks[key]
	}
	for _, m := range svc.Mounts {
		if m.Type == spec.MountVolume && m.Source != "" {
			cs.Volumes[m.Source] = p.Volumes[m.Source]
		}
	}
	cs.Configs = fileSources(p, p.Configs, svc.Configs)
	cs.Secrets = fileSources(p, p.Secrets, svc.Secrets)
	if kind, target, ok := strings.Cut(svc.NetworkMode, ":"); ok {
		cs.Shares = target
		if kind == "service" {
			cs.Shares = firstContainer(p, target)
		}
	}
	for _, v := range svc.VolumesFrom {
		name := v.Name
		if !v.Container {
			name = firstContainer(p, v.Name)
		}
		cs.VolumesFrom = append(cs.VolumesFrom, MountsFrom{Container: name, ReadOnly: v.ReadOnly()})
	}
	return cs
}

// firstContainer is the name of the first container of service, which a
// service: reference means.
func firstContainer(p *spec.Project, service string) string {
	if svc, ok := p.Service(service); ok {
		return svc.Container(p.Name, 1)
	}
	return spec.ContainerName(p.Name, service, 1)
}

// fileSources picks the sources refs use, resolving environment ones.
func fileSources(p *spec.Project, all map[string]spec.FileSource, refs []spec.FileRef) map[string]spec.FileSource {
	if len(refs) == 0 {
		return nil
	}
	out := map[string]spec.FileSource{}
	for _, r := range refs {
		src := all[r.Source]
		if src.Environment != "" {
			src.Content, _ = p.LookupEnv(src.Environment)
		}
		out[r.Source] = src
	}
	return out
}

func (pl *planner) planOrphans(p *spec.Project, obs Observed, o Options) {
	for _, c := range obs.Containers {
		if !isOrphan(p, c) {
			continue
		}
		if !o.RemoveOrphans {
			pl.warnOrphan(c)
			continue
		}
		pl.add(Action{ID: "container:" + c.Name, Kind: Remove, Target: c.Name, Service: c.Service, Reason: fmt.Sprintf("orphan: service %q is not in the project", c.Service), Timeout: stopTimeout(c.Spec, o)})
	}
}

// isOrphan reports whether c belongs to a service the project no longer
// has; a service of a profile not enabled now is not an orphan.
func isOrphan(p *spec.Project, c Container) bool {
	_, ok := p.Service(c.Service)
	return !ok && !slices.Contains(p.Disabled, c.Service)
}

func (pl *planner) warnOrphan(c Container) {
	pl.plan.Warnings = append(pl.plan.Warnings, fmt.Sprintf("found orphan container %s for service %q, not in the project: remove it with --remove-orphans", c.Name, c.Service))
}

// linkDependencies orders every container action after the images,
// networks and volumes it needs and after the services it depends on.
func (pl *planner) linkDependencies(services []spec.Service) {
	for _, svc := range services {
		for _, id := range pl.byServ[svc.Name] {
			a := &pl.plan.Actions[pl.byID[id]]
			if a.Container == nil {
				continue
			}
			pl.after(a, pullID(svc.Image))
			for _, n := range a.Container.Networks {
				pl.after(a, "network:"+n.Name)
			}
			for _, v := range a.Container.Volumes {
				pl.after(a, "volume:"+v.Name)
			}
		}
		for _, dep := range sortedKeys(svc.DependsOn) {
			var gate []string
			switch svc.DependsOn[dep].Condition {
			case "service_completed_successfully":
				gate = pl.waitFor(dep, WaitExit)
			case "service_healthy":
				gate = pl.waitFor(dep, WaitHealthy)
			default:
				gate = pl.byServ[dep]
			}
			for _, id := range pl.byServ[svc.Name] {
				a := &pl.plan.Actions[pl.byID[id]]
				if a.Kind == Remove {
					continue
				}
				for _, g := range gate {
					pl.after(a, g)
				}
			}
		}
	}
}

// waitFor returns the wait actions of kind for service dep, adding them
// once: one per container of dep that this plan starts or that is running.
func (pl *planner) waitFor(dep string, kind Kind) []string {
	key := dep + "/" + string(kind)
	if ids, ok := pl.waits[key]; ok {
		return ids
	}
	reason := "a dependent needs it to complete successfully"
	if kind == WaitHealthy {
		reason = "a dependent needs it healthy"
	}
	var ids []string
	wait := func(target string, after []string) {
		w := Action{ID: string(kind) + ":" + target, Kind: kind, Target: target, Service: dep, Reason: reason, After: after}
		pl.add(w)
		ids = append(ids, w.ID)
	}
	for _, id := range pl.byServ[dep] {
		if a := pl.plan.Actions[pl.byID[id]]; a.Kind != Remove {
			wait(a.Target, []string{id})
		}
	}
	for _, name := range pl.running[dep] {
		wait(name, nil)
	}
	pl.waits[key] = ids
	return ids
}

func (pl *planner) after(a *Action, id string) {
	if !pl.has(id) {
		return
	}
	for _, x := range a.After {
		if x == id {
			return
		}
	}
	a.After = append(a.After, id)
}

// planHosts refreshes every container's /etc/hosts once the set of
// containers has changed.
func (pl *planner) planHosts() {
	var changed []string
	for _, a := range pl.plan.Actions {
		if a.Kind == Create || a.Kind == Recreate || a.Kind == Remove {
			changed = append(changed, a.ID)
		}
	}
	if len(changed) == 0 {
		return
	}
	pl.add(Action{ID: "hosts", Kind: RefreshHosts, Target: pl.plan.Project, Reason: "the project's containers changed", After: changed, Regardless: true})
}

func (pl *planner) sort() {
	acts := pl.plan.Actions
	sort.SliceStable(acts, func(i, j int) bool {
		if kindOrder[acts[i].Kind] != kindOrder[acts[j].Kind] {
			return kindOrder[acts[i].Kind] < kindOrder[acts[j].Kind]
		}
		return acts[i].Target < acts[j].Target
	})
	for i := range acts {
		sort.Strings(acts[i].After)
	}
}

// stopTimeout is a container's stop grace period: the command's -t when
// given, else its service's stop_grace_period, else Docker's default.
func stopTimeout(svc spec.Service, o Options) time.Duration { return grace(svc, o.Timeout) }

func grace(svc spec.Service, timeout *time.Duration) time.Duration {
	if timeout != nil {
		return *timeout
	}
	if svc.StopGracePeriod != nil {
		return *svc.StopGracePeriod
	}
	return lifecycle.DefaultStopGrace
}

func usedKeys(services []spec.Service, keys func(spec.Service) []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range services {
		for _, k := range keys(s) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := mapKeys(m)
	sort.Strings(out)
	return out
}

func short(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	if id == "" {
		return "none"
	}
	return id
}
