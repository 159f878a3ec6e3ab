package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
)

// Observe reads what berth has on the host for project p: its recorded
// containers with their live state, every network and volume the project
// refers to or recorded, the local image of every service and, for the
// images berth built, what their builds read now (Observed.Builds).
func (e *Engine) Observe(ctx context.Context, p *spec.Project) (reconcile.Observed, error) {
	return e.observe(ctx, p, true)
}

// ObserveState is Observe without Observed.Builds, which costs a hash of
// every built service's build context: for the plans that never build
// (down, stop, start, restart, rm, kill, pause, pull).
func (e *Engine) ObserveState(ctx context.Context, p *spec.Project) (reconcile.Observed, error) {
	return e.observe(ctx, p, false)
}

func (e *Engine) observe(ctx context.Context, p *spec.Project, builds bool) (reconcile.Observed, error) {
	obs := reconcile.Observed{Networks: map[string]reconcile.Presence{}, Volumes: map[string]reconcile.Presence{}, Images: map[string]string{},
		ImageConfigs: map[string]reconcile.ImageConfig{}, Pulled: map[string]time.Time{}, At: time.Now()}
	// Every project's records, read once: the peers need their owners.
	all, err := e.store.Containers(ctx, "")
	if err != nil {
		return obs, err
	}
	var recs []store.Container
	for _, r := range all {
		if r.Project == p.Name {
			recs = append(recs, r)
		}
	}
	// The rest is read at once: each container's state (what its shim
	// published, or a round trip to a shim that has published none yet),
	// the host's links (one netlink dump) and the services' images in
	// goroutines, the recorded plumbing and the rule tags here; a
	// container's drift waits for the plumbing and the tags.
	var (
		plumbing hostPlumbing
		tags     network.Tags
		plumbErr error
		plumbed  = make(chan struct{}) // closed once plumbing and tags are read, or plumbErr says why not
		wg       sync.WaitGroup
	)
	obs.Containers = make([]reconcile.Container, len(recs))
	errs := make([]error, len(recs))
	for i, r := range recs {
		wg.Go(func() {
			c, err := e.readContainer(ctx, r)
			<-plumbed
			if err == nil && plumbErr == nil {
				err = e.assessContainer(&c, tags, plumbing)
			}
			obs.Containers[i], errs[i] = c, err
		})
	}
	var imagesErr error
	wg.Go(func() { imagesErr = e.observeImages(p, &obs) })
	plumbErr = func() error {
		var links network.Links
		linksErr := make(chan error, 1)
		go func() {
			var err error
			links, err = e.net.Links()
			linksErr <- err
		}()
		var err error
		if plumbing.recordedPlumbing, err = e.recordedPlumbing(ctx); err == nil {
			tags, err = e.net.StableTags(func(t network.Tags) bool { return hasTags(t, p, recs, plumbing) })
		}
		err = errors.Join(err, <-linksErr)
		plumbing.links = links
		return err
	}()
	close(plumbed)
	wg.Wait()
	if err := errors.Join(append(errs, plumbErr, imagesErr)...); err != nil {
		return obs, err
	}
	obs.Peers = peerProjects(p, all, plumbing.eps)
	for _, n := range plumbing.nets {
		if n.Project == p.Name {
			obs.Networks[n.Name] = reconcile.Presence{}
		}
	}
	external := map[string]bool{}
	declared := map[string]spec.Network{}
	for _, n := range p.Networks {
		obs.Networks[n.Name] = reconcile.Presence{}
		external[n.Name] = n.External
		declared[n.Name] = n
	}
	for name := range obs.Networks {
		rec, ok := plumbing.nets[name]
		pr := reconcile.Presence{Recorded: ok && rec.Project == p.Name && !external[name]}
		if ok {
			if pr.Exists, err = plumbing.links.Bridge(rec.Bridge); err != nil {
				return obs, err
			}
			// Lost rules of a network of this project make it re-ensured;
			// an external one is another project's to repair.
			pr.Exists = pr.Exists && (external[name] || tags.Bridge(rec.Bridge, rec.Subnet6 != ""))
			if n, ok := declared[name]; ok && pr.Recorded {
				pr.Changed = networkChange(n, rec)
			}
			pr.Strays = pr.Exists && pr.Recorded && plumbing.links.StrayVeths(rec.Bridge, e.recordedVeths(name, plumbing.eps))
		}
		obs.Networks[name] = pr
	}
	vols, err := e.store.Volumes(ctx, "")
	if err != nil {
		return obs, err
	}
	// Recorded: what `down -v` may remove, as Docker Compose does: the
	// project's declared, non-external volumes and the anonymous volumes of
	// its containers. A volume the file no longer declares is left alone.
	ours := map[string]*reconcile.Container{}
	for i := range obs.Containers {
		ours[obs.Containers[i].Name] = &obs.Containers[i]
	}
	ownVolume := map[string]bool{}
	for _, v := range p.Volumes {
		ownVolume[v.Name] = !v.External
		obs.Volumes[v.Name] = e.volumePresence(v.Name, false)
	}
	for _, v := range vols {
		owner, target, anon := reconcile.AnonymousOwner(v.Key)
		c := ours[owner]
		if anon && c != nil {
			c.Volumes = append(c.Volumes, reconcile.AnonymousVolume{Target: target, Name: v.Name})
		}
		if v.Project == p.Name && (ownVolume[v.Name] || anon && c != nil) {
			obs.Volumes[v.Name] = e.volumePresence(v.Name, true)
		}
	}
	if builds {
		e.observeBuilds(p, &obs)
	}
	return obs, nil
}

// observeImages records in obs the local image of every service of p that
// has one: its id, configuration and pull time.
func (e *Engine) observeImages(p *spec.Project, obs *reconcile.Observed) error {
	for _, s := range p.Services {
		if _, seen := obs.Images[s.Image]; seen {
			continue
		}
		img, err := e.Images.Get(s.Image)
		if errors.Is(err, image.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("service %q: looking up image %q: %w", s.Name, s.Image, err)
		}
		obs.Images[s.Image] = img.ID
		obs.ImageConfigs[s.Image] = imageConfig(img.Config)
		obs.Pulled[s.Image] = img.Pulled
	}
	return nil
}

// peerProjects are the other projects with a container on a network p
// declares or one of its containers is on, sorted; recs are every
// project's containers and eps the host's endpoints.
func peerProjects(p *spec.Project, recs []store.Container, eps []store.Endpoint) []string {
	project := p.Name
	owner := map[string]string{}
	for _, r := range recs {
		owner[r.Name] = r.Project
	}
	ours := map[string]bool{}
	for _, n := range p.Networks {
		ours[n.Name] = true
	}
	for _, ep := range eps {
		if owner[ep.Container] == project {
			ours[ep.Network] = true
		}
	}
	var peers []string
	for _, ep := range eps {
		if other := owner[ep.Container]; ours[ep.Network] && other != "" && other != project && !slices.Contains(peers, other) {
			peers = append(peers, other)
		}
	}
	slices.Sort(peers)
	return peers
}

// hasTags reports whether t has every rule tag observe looks for in p:
// those of the bridges of the networks p declares or recorded, and those
// of the published ports of its containers, recs.
func hasTags(t network.Tags, p *spec.Project, recs []store.Container, pl hostPlumbing) bool {
	declared := map[string]bool{}
	for _, n := range p.Networks {
		declared[n.Name] = true
	}
	for _, n := range pl.nets {
		if (n.Project == p.Name || declared[n.Name]) && !t.Bridge(n.Bridge, n.Subnet6 != "") {
			return false
		}
	}
	for _, r := range recs {
		if len(pl.ports[r.Name]) > 0 && !t.Owner(r.Name) {
			return false
		}
	}
	return true
}

// networkChange names what a declared network asks for that its bridge,
// made earlier, does not have.
func networkChange(n spec.Network, rec store.Network) string {
	var changed []string
	if n.Internal != rec.Internal {
		changed = append(changed, "internal")
	}
	for _, pool := range n.IPAM {
		was := rec.Subnet
		if pool.Subnet.Addr().Is6() {
			was = rec.Subnet6
		}
		if pool.Subnet.Masked().String() != was {
			changed = append(changed, "ipam subnet")
		}
	}
	if n.EnableIPv6 != (rec.Subnet6 != "") {
		changed = append(changed, "enable_ipv6")
	}
	return strings.Join(changed, ", ")
}

// recordedPlumbing is what the database records of every container's
// plumbing, read once for all of them: endpoints (every one, and by
// container), published ports by container and networks by name.
type recordedPlumbing struct {
	eps       []store.Endpoint
	endpoints map[string][]store.Endpoint
	ports     map[string][]store.Port
	nets      map[string]store.Network
}

func (e *Engine) recordedPlumbing(ctx context.Context) (recordedPlumbing, error) {
	pl := recordedPlumbing{endpoints: map[string][]store.Endpoint{}, ports: map[string][]store.Port{}, nets: map[string]store.Network{}}
	eps, err := e.store.Endpoints(ctx)
	if err != nil {
		return pl, err
	}
	pl.eps = eps
	for _, ep := range eps {
		pl.endpoints[ep.Container] = append(pl.endpoints[ep.Container], ep)
	}
	ports, err := e.store.Ports(ctx, "")
	if err != nil {
		return pl, err
	}
	for _, p := range ports {
		pl.ports[p.Container] = append(pl.ports[p.Container], p)
	}
	nets, err := e.store.Networks(ctx, "")
	if err != nil {
		return pl, err
	}
	for _, n := range nets {
		pl.nets[n.Name] = n
	}
	return pl, nil
}

// hostPlumbing is what Observe reads once for all containers: the
// recorded plumbing, and the host's links (one netlink dump, not one
// lookup per container).
type hostPlumbing struct {
	recordedPlumbing
	links network.Links
}

// drift names what of a running container's host plumbing is gone: a veth
// no longer on its bridge (the bridge was deleted and made again), or the
// rules of its published ports (a firewall reload).
func (e *Engine) drift(name string, tags network.Tags, pl hostPlumbing) (string, error) {
	for _, ep := range pl.endpoints[name] {
		if !pl.links.VethOnBridge(e.vethName(name, ep.Network), pl.nets[ep.Network].Bridge) {
			return fmt.Sprintf("its link to network %s is gone from the host", ep.Network), nil
		}
	}
	if len(pl.ports[name]) > 0 && !tags.Owner(name) {
		return "the rules of its published ports are gone from the host", nil
	}
	return "", nil
}

// readContainer is what the record r and the runtime say of a container:
// the first half of its observation, which needs nothing of the host's
// plumbing (assessContainer is the other).
func (e *Engine) readContainer(ctx context.Context, r store.Container) (reconcile.Container, error) {
	svc, err := spec.ParseCanonical(r.Spec)
	if err != nil {
		return reconcile.Container{}, fmt.Errorf("reading the recorded spec of %s: %w", r.Name, err)
	}
	c := reconcile.Container{Name: r.Name, Service: r.Service, Number: r.Number, Hash: r.ConfigHash, ImageID: r.ImageID, Spec: svc,
		OneOff: r.Labels[labelOneOff] == "True", Contents: reconcile.ParseContents(r.Labels[labelContents])}
	st, err := e.runtime.State(ctx, r.Name)
	if err != nil {
		return c, fmt.Errorf("reading the state of %s: %w", r.Name, err)
	}
	c.State, c.ExitCode, c.Stopped = st.Status, st.ExitCode, st.Stopped
	c.Unsupervised = st.Status.Active() && !st.Shim
	return c, nil
}

// assessContainer completes c, as readContainer read it, from the host's
// plumbing: its drift when it runs, whether what a start needs is still
// there when it does not.
func (e *Engine) assessContainer(c *reconcile.Container, tags network.Tags, pl hostPlumbing) error {
	var err error
	if c.State == lifecycle.Running {
		if c.Drift, err = e.drift(c.Name, tags, pl); err != nil {
			return err
		}
		if c.Drift == "" && len(c.Spec.Ports) > 0 && c.Spec.NetworkMode == "" && !c.OneOff && len(pl.ports[c.Name]) == 0 {
			c.Drift = "its published ports were never set up (a start-first rollout stopped before switching them to it)"
		}
	}
	if c.State != lifecycle.Missing && !c.State.Active() && !e.plumbingIntact(c.Name, c.Spec) {
		// After a reboot the run root is empty: starting the container
		// again needs its namespace and files made again first.
		c.Unplumbed = true
	}
	return nil
}

// plumbingIntact reports whether what berth made for a stopped container
// is still there: its /etc files, and what a reboot empties, under the
// run root: its network namespace, its config and secret files.
func (e *Engine) plumbingIntact(name string, svc spec.Service) bool {
	if len(svc.Configs)+len(svc.Secrets) > 0 && !mountPoint(e.filesDir(name)) {
		return false
	}
	if strings.Contains(svc.NetworkMode, ":") {
		return true // it borrows another container's
	}
	for _, f := range etcNames {
		if _, err := os.Stat(filepath.Join(e.etcDirOf(name), f)); err != nil {
			return false
		}
	}
	return svc.NetworkMode != "" || network.NetNSExists(e.netnsPath(name))
}

// volumePresence is what the plan knows of volume name: whether it
// exists, and whether a container created on it would fill it.
func (e *Engine) volumePresence(name string, recorded bool) reconcile.Presence {
	pr := reconcile.Presence{Recorded: recorded, Exists: e.volumes.Exists(name)}
	if pr.Exists {
		pr.Empty, _ = e.fillable(name)
	}
	return pr
}
