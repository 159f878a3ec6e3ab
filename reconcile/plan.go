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
var kindOrder = map[Kind]int{Build: 0, Pull: 0, Push: 0, CreateNetwork: 1, CreateVolume: 2, FillVolume: 3, Stop: 4, Remove: 5, Create: 6, Restore: 6, Start: 7, WaitExit: 8, WaitHealthy: 8, WaitReady: 8, RefreshHosts: 9, RemoveNetwork: 10, RemoveVolume: 11, Untag: 12, CollectImages: 13, Kill: 4, Pause: 4, Unpause: 4, UpdateLimits: 6, Delay: 6, SwitchPorts: 8, RecordContents: 7} // SwitchPorts: see sortOrder

// planner accumulates one plan.
type planner struct {
	plan    Plan
	errs    []error
	byID    map[string]int      // action ID -> index in plan.Actions
	byServ  map[string][]string // service -> IDs of its containers' starts, what dependents wait for
	creates map[string][]string // service -> IDs of its containers' creations
	// images and volumes are what the plan knows of the host's images'
	// configurations and of its volumes: for processes, anonymous
	// volumes and copy-up.
	images   map[string]ImageConfig
	volumes  map[string]Presence
	waits    map[string][]string // service -> IDs of its wait actions
	running  map[string][]string // service -> its containers kept running untouched
	rebuilds map[string]bool     // images whose planned build makes another image
}

func newPlanner(project string) *planner {
	return &planner{plan: Plan{Project: project}, byID: map[string]int{}, byServ: map[string][]string{}, creates: map[string][]string{}, waits: map[string][]string{}, running: map[string][]string{}, rebuilds: map[string]bool{}}
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
	services, err := selectServices(p, o.Services, o.NoDeps)
	if err != nil {
		return Plan{}, err
	}
	pl := newPlanner(p.Name)
	pl.planServices(p, services, nil, obs, o)
	return pl.finish()
}

// planServices plans what brings services to what p declares, and the
// one-off containers extra of their services with them (made new, never
// compared): images, networks, volumes, containers in dependency order,
// orphans and /etc/hosts.
func (pl *planner) planServices(p *spec.Project, services []spec.Service, extra []decision, obs Observed, o Options) {
	all := slices.Clone(services)
	for _, d := range extra {
		all = append(all, d.svc)
	}
	for _, svc := range all {
		pl.planImage(svc, obs, o)
	}
	pl.planNetworks(p, all, obs)
	pl.planBuilds(p, all, obs, o)
	pl.planVolumes(p, all, obs)
	pl.images, pl.volumes = obs.ImageConfigs, obs.Volumes
	byService := map[string][]Container{}
	for _, c := range obs.Containers {
		if !c.OneOff {
			byService[c.Service] = append(byService[c.Service], c)
		}
	}
	decisions := map[string][]decision{}
	for _, svc := range services {
		decisions[svc.Name] = pl.decideContainers(p, svc, byService[svc.Name], obs, o)
	}
	followSharedNamespaces(decisions)
	for _, svc := range services {
		pl.planDecisions(pl.startFirst(decisions[svc.Name], byService[svc.Name], o), o)
	}
	pl.planDecisions(extra, o)
	pl.warnPulledImages(services)
	pl.planOrphans(p, obs, o)
	pl.linkDependencies(all, o)
	pl.planWait(p, services, o)
	pl.planHosts(obs.Peers)
}

// selectServices returns the named services and, transitively unless
// noDeps, those they depend on, in project order; all services when names
// is empty.
func selectServices(p *spec.Project, names []string, noDeps bool) ([]spec.Service, error) {
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
		if noDeps {
			return nil
		}
		for dep, d := range svc.DependsOn {
			if err := visit(dep); err != nil && !absentOptional(p, dep, d) {
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
	if svc.Build != nil { // planned by planBuilds
		return
	}
	if pl.has(id) || o.SkipPull {
		return
	}
	_, present := obs.Images[svc.Image]
	switch {
	case svc.PullPolicy == "always":
		pl.add(Action{ID: id, Kind: Pull, Target: svc.Image, Reason: "pull_policy is always", Platform: svc.Platform})
	case present && svc.PullPolicy == "refresh":
		if why := refreshDue(svc, obs); why != "" {
			pl.add(Action{ID: id, Kind: Pull, Target: svc.Image, Reason: why, Platform: svc.Platform})
		}
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
		case state.Exists && !state.Strays:
		case n.External:
			pl.fail("network %s declared as external, but could not be found", n.Name)
		default:
			reason := "does not exist"
			switch {
			case state.Exists:
				reason = "its bridge holds links of removed containers"
			case state.Recorded:
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
			if !pl.has("create:" + pl.plan.Actions[pl.byID[id]].Target) {
				kept = append(kept, pl.plan.Actions[pl.byID[id]].Target)
			}
		}
		if len(kept) > 0 {
			pl.plan.Warnings = append(pl.plan.Warnings, fmt.Sprintf("image %s is pulled first: if the registry's differs from the local one, up also recreates %s", svc.Image, strings.Join(kept, ", ")))
		}
	}
}

// change is what the plan does with one wanted container.
type change int

const (
	keep     change = iota // it runs as wanted
	create                 // it does not exist: create it, then start it
	start                  // it exists, stopped: start it
	recreate               // it is not what is wanted: stop it, remove it, create and start its successor
	restart                // it runs without its supervisor: stop it, start it again with a new one
	hold                   // it is stopped and stays so (Options.KeepStopped): the user or its restart policy says so
)

// supervisorDied is why a container running without its shim is restarted.
const supervisorDied = "its supervisor died"

// decision is the planner's verdict on one wanted container, before it
// becomes actions.
type decision struct {
	svc    spec.Service
	spec   *ContainerSpec
	old    Container // the container there is now, unless change is create
	change change
	reason string
	limits string // kept or started: why its limits are updated in place ("" when they are as wanted)
	// contents is, for a container restarted, started or left stopped,
	// why it records its watched binds' contents anew ("" when it need not).
	contents string
}

// decideContainers decides each wanted container of svc, and plans the
// removal of those beyond its scale.
func (pl *planner) decideContainers(p *spec.Project, svc spec.Service, existing []Container, obs Observed, o Options) []decision {
	hash := containerHash(p, svc)
	imageID, imagePresent := obs.Images[svc.Image]
	keep, extra := slots(existing, svc.Scale, hash)
	force := o.ForceRecreate || o.RenewAnonVolumes
	if len(o.Services) > 0 && !slices.Contains(o.Services, svc.Name) {
		force = o.AlwaysRecreateDeps // a dependency of the named services
	}
	var out []decision
	for _, sl := range keep {
		n, c, ok := sl.number, sl.old, sl.ok
		name := svc.Container(p.Name, n)
		d := decision{svc: svc, spec: containerSpec(p, svc, name, n, hash)}
		d.old = c
		contents, bindsOnly := contentChange(c, d.spec)
		switch {
		case !ok:
			d.change, d.reason = create, "new container"
		case c.State == lifecycle.Missing:
			d.change, d.reason = recreate, "the container is gone from the host"
		case c.Hash == "":
			d.change, d.reason = recreate, "its last creation failed"
		case o.NoRecreate:
			if !c.State.Active() {
				d.change, d.reason = start, notRunning(c)
			} else if c.Unsupervised {
				d.change, d.reason = restart, supervisorDied
			}
		case c.Drift != "":
			d.change, d.reason = recreate, c.Drift
		case force:
			d.change, d.reason = recreate, forceReason(svc.Name, o)
		case c.Hash != hash:
			d.change, d.reason = recreate, changedReason(c.Spec, svc)
		case contents != "" && !bindsOnly:
			d.change, d.reason = recreate, contents
		case pl.rebuilt(svc.Image, c, imageID, imagePresent, o):
			d.change, d.reason = recreate, "image rebuilt"
		case imagePresent && c.ImageID != imageID:
			d.change, d.reason = recreate, fmt.Sprintf("image changed (%s -> %s)", short(c.ImageID), short(imageID))
		case o.KeepStopped && staysDown(svc, c) != "":
			d.change, d.reason, d.contents = hold, staysDown(svc, c), contents
		case !c.State.Active():
			// It mounts its watched binds anew when it starts.
			d.change, d.reason, d.contents = start, notRunning(c), contents
		case contents != "":
			d.change, d.reason, d.contents = restart, contents, contents
		case c.Unsupervised:
			d.change, d.reason = restart, supervisorDied
		}
		d.limits = limitsReason(d, ok && !o.NoRecreate)
		out = append(out, d)
	}
	for _, c := range extra {
		pl.add(Action{ID: "remove:" + c.Name, Kind: Remove, Target: c.Name, Service: svc.Name, Reason: fmt.Sprintf("scaled down to %d", svc.Scale), Timeout: stopTimeout(svc, o)})
	}
	return out
}

// notRunning is why a stopped container c is started.
func notRunning(c Container) string {
	if c.Unplumbed {
		return "not running since the host restarted"
	}
	if c.State == lifecycle.Created {
		return "created, never started"
	}
	return fmt.Sprintf("not running (%s, exit code %d)", c.State, c.ExitCode)
}

// followSharedNamespaces recreates the containers of a service that
// shares the network, IPC or PID namespace of service S (network_mode,
// ipc or pid service:S) when S's container is made anew: they live in its
// namespace, which goes with it. A chain of sharers follows to its end.
func followSharedNamespaces(decisions map[string][]decision) {
	for changed := true; changed; {
		changed = false
		for _, ds := range decisions {
			for i := range ds {
				if ds[i].change == create || ds[i].change == recreate {
					continue
				}
				for _, sh := range sharedNamespaces(ds[i].svc) {
					if remade(decisions[sh.service]) {
						ds[i].change, ds[i].reason = recreate, fmt.Sprintf("it shares the %s of %s, which is recreated", sh.what, sh.service)
						changed = true
						break
					}
				}
			}
		}
	}
}

// sharedNamespace is a namespace a service joins: what it is ("network",
// "ipc namespace", "pid namespace") and the service it belongs to.
type sharedNamespace struct{ what, service string }

// sharedNamespaces are the namespaces svc joins of other services of its
// project: network_mode, ipc and pid service:NAME, in that order.
func sharedNamespaces(svc spec.Service) []sharedNamespace {
	var out []sharedNamespace
	for _, m := range []struct{ what, mode string }{{"network", svc.NetworkMode}, {"ipc namespace", svc.Security.Ipc}, {"pid namespace", svc.Security.Pid}} {
		if name, ok := strings.CutPrefix(m.mode, "service:"); ok && name != "" {
			out = append(out, sharedNamespace{m.what, name})
		}
	}
	return out
}

// remade reports whether any of ds makes a container anew.
func remade(ds []decision) bool {
	return slices.ContainsFunc(ds, func(d decision) bool { return d.change == create || d.change == recreate })
}

// planDecisions turns decisions into actions: a create is the container's
// creation then its start; a recreate is the chain remove (which stops
// it when it runs), create, start. A service's starts are what its dependents wait for.
func (pl *planner) planDecisions(ds []decision, o Options) {
	for _, d := range ds {
		svc, name := d.svc.Name, d.spec.Name
		pl.updateLimits(d)
		switch d.change {
		case keep:
			pl.running[svc] = append(pl.running[svc], name)
		case start:
			if !o.NoStart {
				if d.old.Unplumbed {
					pl.restore(d)
				}
				pl.start(svc, name, d.reason)
			}
			pl.planRecordContents(d)
		case create:
			pl.create(d, nil, o)
		case restart:
			// Its writable layer, addresses and volumes stay: only the
			// process starts again, under a shim that supervises it.
			pl.add(Action{ID: "stop:" + name, Kind: Stop, Target: name, Service: svc, Reason: d.reason, Timeout: stopTimeout(d.svc, o)})
			if !o.NoStart {
				pl.start(svc, name, d.reason)
			}
			pl.planRecordContents(d)
		case hold:
			pl.plan.Held = append(pl.plan.Held, Held{Container: name, Service: svc, Reason: d.reason})
			pl.planRecordContents(d)
		case recreate:
			// The removal stops a running container itself (its stop
			// signal, then SIGKILL after the grace period): a stop that
			// only leads to the removal records nothing the removal keeps,
			// and its network namespace goes while it stops.
			rm := Action{ID: "remove:" + name, Kind: Remove, Target: name, Service: svc, Reason: d.reason, Timeout: stopTimeout(d.svc, o)}
			pl.afterBuild(&rm, d.svc.Image)
			pl.add(rm)
			if o.RenewAnonVolumes {
				pl.renewAnonymous(d)
			}
			pl.create(d, []string{"remove:" + name}, o)
		}
	}
}

// unplumbedReason is why a stopped container's plumbing is made again.
const unplumbedReason = "its network namespace and files are gone from the host (a reboot)"

// restore adds the Restore of d's stopped container, whose run-root
// plumbing is gone: ordered, as a creation, after its networks and volumes.
func (pl *planner) restore(d decision) {
	id := "restore:" + d.spec.Name
	a := Action{ID: id, Kind: Restore, Target: d.spec.Name, Service: d.svc.Name, Reason: unplumbedReason, Container: d.spec}
	pl.add(a)
	pl.creates[d.svc.Name] = append(pl.creates[d.svc.Name], id)
}

// create adds the creation of d's container, after the given actions and
// after its anonymous volumes and their filling, and its start unless
// o.NoStart.
func (pl *planner) create(d decision, after []string, o Options) {
	after = append(after, pl.planAnonymous(d)...)
	after = append(after, pl.planFills(d)...)
	if img, ok := pl.images[d.svc.Image]; ok {
		proc, err := MergeProcess(d.svc, img)
		if err != nil {
			pl.errs = append(pl.errs, err)
		}
		d.spec.Process = &proc
	}
	d.spec.Starts = !o.NoStart
	id := "create:" + d.spec.Name
	a := Action{ID: id, Kind: Create, Target: d.spec.Name, Service: d.svc.Name, Reason: d.reason, After: after, Container: d.spec, Process: d.spec.Process}
	pl.afterBuild(&a, d.svc.Image)
	pl.add(a)
	pl.creates[d.svc.Name] = append(pl.creates[d.svc.Name], id)
	if !o.NoStart {
		pl.start(d.svc.Name, d.spec.Name, d.reason)
	}
}

// planAnonymous names the anonymous volumes of d's container in its spec
// (its predecessor's, or new ones) and plans the creation of those that
// do not exist, returning their action IDs.
func (pl *planner) planAnonymous(d decision) []string {
	had := map[string]string{}
	for _, v := range d.old.Volumes {
		had[v.Target] = v.Name
		if pl.has(renewID(v.Name)) { // renewed (-V): removed, replaced
			had[v.Target] = renewedName(v.Name)
		}
	}
	var ids []string
	for _, m := range spec.ContainerMounts(d.svc, pl.images[d.svc.Image].Volumes) {
		if m.Type != spec.MountVolume || m.Source != "" {
			continue
		}
		if d.spec.Anonymous == nil {
			d.spec.Anonymous = map[string]string{}
		}
		name, ok := had[m.Target]
		if !ok {
			name = anonymousName(pl.plan.Project, d.spec.Name, m.Target)
		}
		d.spec.Anonymous[m.Target] = name
		if pl.volumes[name].Exists {
			continue
		}
		reason := "anonymous, " + m.Target + " of service " + d.svc.Name
		if !slices.ContainsFunc(d.svc.Mounts, func(sm spec.Mount) bool { return sm.Target == m.Target }) {
			reason = "anonymous, image VOLUME " + m.Target
		}
		a := Action{ID: "volume:" + name, Kind: CreateVolume, Target: name, Service: d.svc.Name, Reason: reason,
			Volume: &spec.Volume{Name: name, Driver: "local"}, Key: AnonymousKey(d.spec.Name, m.Target)}
		pl.add(a)
		ids = append(ids, a.ID)
	}
	return ids
}

// planFills plans Docker's copy-up for d's container: each volume it
// mounts (without nocopy) that is new in this plan, or exists and is
// empty, is first filled with what its image holds at the mount's path.
// A volume is filled once, by the first container planned to mount it.
func (pl *planner) planFills(d decision) []string {
	var ids []string
	for _, m := range spec.ContainerMounts(d.svc, pl.images[d.svc.Image].Volumes) {
		if m.Type != spec.MountVolume || m.NoCopy {
			continue
		}
		name, v := d.spec.Anonymous[m.Target], spec.Volume{}
		if m.Source != "" {
			v = d.spec.Volumes[m.Source]
			name = v.Name
		}
		id := "fill:" + name
		created := pl.has("volume:" + name)
		switch {
		case pl.has(id):
		case v.DriverOpts["type"] == "tmpfs": // each container gets a fresh one
			continue
		case created || pl.volumes[name].Empty:
			reason := "it is empty"
			if created {
				reason = "it is new"
			}
			a := Action{ID: id, Kind: FillVolume, Target: name, Service: d.svc.Name,
				Reason: fmt.Sprintf("%s: copy %s of image %s into it", reason, m.Target, d.svc.Image), Fill: &Fill{Image: d.svc.Image, Path: m.Target}}
			pl.after(&a, "volume:"+name)
			pl.after(&a, pullID(d.svc.Image))
			pl.afterBuild(&a, d.svc.Image)
			pl.add(a)
		default:
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

// start adds the start of container name of service svc, after its
// creation when the plan creates it.
func (pl *planner) start(svc, name, reason string) {
	a := Action{ID: "start:" + name, Kind: Start, Target: name, Service: svc, Reason: reason}
	pl.after(&a, "create:"+name)
	pl.after(&a, "stop:"+name)    // a restart
	pl.after(&a, "restore:"+name) // after a reboot
	pl.after(&a, "update-limits:"+name)
	pl.add(a)
	pl.byServ[svc] = append(pl.byServ[svc], a.ID)
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
		Networks: map[string]spec.Network{}, Volumes: map[string]spec.Volume{}, ConfigFiles: p.Files, WorkingDir: p.WorkingDir}
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
	cs.Watched = p.Watched[svc.Name]
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
			if !o.IgnoreOrphans {
				pl.warnOrphan(c)
			}
			continue
		}
		pl.add(Action{ID: "remove:" + c.Name, Kind: Remove, Target: c.Name, Service: c.Service, Reason: fmt.Sprintf("orphan: service %q is not in the project", c.Service), Timeout: stopTimeout(c.Spec, o)})
	}
}

// isOrphan reports whether c belongs to a service the project no longer
// has; a service of a profile not enabled now is not an orphan.
func isOrphan(p *spec.Project, c Container) bool {
	_, ok := p.Service(c.Service)
	return !ok && !c.OneOff && !slices.Contains(p.Disabled, c.Service)
}

func (pl *planner) warnOrphan(c Container) {
	pl.plan.Warnings = append(pl.plan.Warnings, fmt.Sprintf("found orphan container %s for service %q, not in the project: remove it with --remove-orphans", c.Name, c.Service))
}

// linkDependencies orders every container creation after the images,
// networks and volumes it needs, and a service's creations and starts
// after the services it depends on (gateOnDependencies).
func (pl *planner) linkDependencies(services []spec.Service, o Options) {
	for _, svc := range services {
		for _, id := range pl.creates[svc.Name] {
			a := &pl.plan.Actions[pl.byID[id]]
			pl.after(a, pullID(svc.Image))
			for _, n := range a.Container.Networks {
				pl.after(a, "network:"+n.Name)
			}
			for _, v := range a.Container.Volumes {
				pl.after(a, "volume:"+v.Name)
			}
		}
		if len(pl.creates[svc.Name])+len(pl.byServ[svc.Name]) == 0 {
			continue // nothing of it is made or started: nothing waits
		}
		pl.gateOnDependencies(svc, o)
	}
}

// waitFor returns the wait actions of kind for service dep, adding them
// once, with reason: one per container of dep that this plan starts or
// that is running.
func (pl *planner) waitFor(dep string, kind Kind, reason string, o Options) []string {
	key := dep + "/" + string(kind)
	if ids, ok := pl.waits[key]; ok {
		return ids
	}
	var ids []string
	wait := func(target string, after []string) {
		w := Action{ID: string(kind) + ":" + target, Kind: kind, Target: target, Service: dep, Reason: reason, After: after, Timeout: o.WaitTimeout}
		pl.add(w)
		ids = append(ids, w.ID)
	}
	for _, id := range pl.byServ[dep] {
		wait(pl.plan.Actions[pl.byID[id]].Target, []string{id})
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

// planHosts refreshes the /etc/hosts of the project's containers, and of
// its peers' (other projects sharing a network), once the set of
// containers has changed.
func (pl *planner) planHosts(peers []string) {
	pl.refreshHosts(true, peers)
}

// refreshHosts adds, after every creation and removal of a container, the
// rewrite of /etc/hosts of the project (with own) and of each peer.
func (pl *planner) refreshHosts(own bool, peers []string) {
	var changed []string
	for _, a := range pl.plan.Actions {
		if a.Kind == Create || a.Kind == Remove {
			changed = append(changed, a.ID)
		}
	}
	if len(changed) == 0 {
		return
	}
	if own {
		pl.add(Action{ID: "hosts", Kind: RefreshHosts, Target: pl.plan.Project, Reason: "the project's containers changed", After: changed, Regardless: true})
	}
	for _, peer := range peers {
		pl.add(Action{ID: "hosts:" + peer, Kind: RefreshHosts, Target: peer, Reason: "it shares a network with project " + pl.plan.Project + ", whose containers changed",
			After: changed, Regardless: true})
	}
}

func (pl *planner) sort() {
	acts := pl.plan.Actions
	sort.SliceStable(acts, func(i, j int) bool {
		if sortOrder(acts[i]) != sortOrder(acts[j]) {
			return sortOrder(acts[i]) < sortOrder(acts[j])
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
