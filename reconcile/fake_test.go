package reconcile

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/berth-dev/berth/lifecycle"
	"github.com/berth-dev/berth/spec"
)

// fakeHost is a host made of maps: it implements every driver interface and
// can report what it holds as an Observed, so a test can apply a plan and
// plan again.
type fakeHost struct {
	mu         sync.Mutex
	images     map[string]string // ref -> ID
	registry   map[string]string // what a pull would fetch: ref -> ID
	networks   map[string]bool
	volumes    map[string]bool
	containers map[string]Container
	uses       map[string][]string // container -> the networks and volumes it uses
	anonymous  map[string]string   // anonymous volume -> its key (AnonymousKey)
	imageVols  map[string][]string // image ref -> its VOLUMEs
	bare       map[string]bool     // images with no ENTRYPOINT or CMD; the others' CMD is sh
	exitCodes  map[string]int      // what Wait returns per container
	fail       map[string]error
	log        []string               // every call, in order
	inputs     map[string]BuildInputs // what a build of an image ref reads now (by ref)
	built      map[string]BuildInputs // what an image was built from (by ID)
}

func newFakeHost() *fakeHost {
	return &fakeHost{images: map[string]string{}, registry: map[string]string{}, networks: map[string]bool{}, volumes: map[string]bool{},
		containers: map[string]Container{}, uses: map[string][]string{}, anonymous: map[string]string{}, imageVols: map[string][]string{}, bare: map[string]bool{}, exitCodes: map[string]int{}, fail: map[string]error{}}
}

func (f *fakeHost) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, call)
	return f.fail[call]
}

func (f *fakeHost) Pull(_ context.Context, ref, _ string) error {
	if err := f.record("pull " + ref); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.registry[ref]
	if !ok {
		return fmt.Errorf("%s: not in the registry", ref)
	}
	f.images[ref] = id
	return nil
}

func (f *fakeHost) Push(_ context.Context, ref string) error {
	if err := f.record("push " + ref); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.images[ref]; !ok {
		return fmt.Errorf("%s: no such image", ref)
	}
	f.registry[ref] = f.images[ref]
	return nil
}

func (f *fakeHost) Untag(_ context.Context, ref, id string) error {
	if err := f.record("untag " + ref + " " + id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.images[ref] == id {
		delete(f.images, ref)
	}
	return nil
}

func (f *fakeHost) Collect(context.Context) (int64, error) {
	return 42, f.record("collect")
}

func (f *fakeHost) CreateNetwork(_ context.Context, _, _ string, n spec.Network) error {
	if err := f.record("create-network " + n.Name); err != nil {
		return err
	}
	f.mu.Lock()
	f.networks[n.Name] = true
	f.mu.Unlock()
	return nil
}

func (f *fakeHost) RemoveNetwork(_ context.Context, name string) error {
	if err := f.record("remove-network " + name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.inUse(name); err != nil {
		return err
	}
	delete(f.networks, name)
	return nil
}

// inUse fails with ErrKept when a container uses network or volume name,
// as the engine does.
func (f *fakeHost) inUse(name string) error {
	for c, objs := range f.uses {
		if slices.Contains(objs, name) {
			return fmt.Errorf("%s: in use by %s (%w)", name, c, ErrKept)
		}
	}
	return nil
}

func (f *fakeHost) CreateVolume(_ context.Context, _, key string, v spec.Volume) error {
	if err := f.record("create-volume " + v.Name); err != nil {
		return err
	}
	f.mu.Lock()
	f.volumes[v.Name] = true
	if _, _, anon := AnonymousOwner(key); anon {
		f.anonymous[v.Name] = key
	}
	f.mu.Unlock()
	return nil
}

func (f *fakeHost) Fill(_ context.Context, name, image, path string) error {
	return f.record("fill " + name + " from " + image + ":" + path)
}

func (f *fakeHost) RemoveVolume(_ context.Context, name string) error {
	if err := f.record("remove-volume " + name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.inUse(name); err != nil {
		return err
	}
	delete(f.volumes, name)
	delete(f.anonymous, name)
	return nil
}

func (f *fakeHost) Create(_ context.Context, c ContainerSpec) error {
	if err := f.record("create " + c.Name); err != nil {
		return err
	}
	if c.Process == nil {
		return fmt.Errorf("%s: no process planned", c.Name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var uses []string
	for _, n := range c.Networks {
		uses = append(uses, n.Name)
	}
	for _, m := range spec.ContainerMounts(c.Service, f.imageVols[c.Service.Image]) {
		switch {
		case m.Type == spec.MountVolume && m.Source == "": // an anonymous volume, which the plan made
			name := c.Anonymous[m.Target]
			if !f.volumes[name] {
				return fmt.Errorf("%s: no anonymous volume at %s", c.Name, m.Target)
			}
			uses = append(uses, name)
		case m.Type == spec.MountVolume:
			uses = append(uses, c.Volumes[m.Source].Name)
		}
	}
	f.uses[c.Name] = uses
	f.containers[c.Name] = Container{Name: c.Name, Service: c.Service.Name, Number: c.Number, Hash: c.Hash,
		ImageID: f.images[c.Service.Image], Spec: c.Service, State: lifecycle.Created, OneOff: c.OneOff,
		Contents: ParseContents(EncodeContents(Contents(c)))}
	return nil
}

func (f *fakeHost) Start(_ context.Context, name string) error {
	if err := f.record("start " + name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[name]
	if c.Unplumbed {
		return fmt.Errorf("starting %s: its network namespace is gone", name)
	}
	c.State = lifecycle.Running
	f.containers[name] = c
	return nil
}

func (f *fakeHost) Stop(_ context.Context, name string, _ time.Duration) error {
	if err := f.record("stop " + name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[name]
	c.State, c.ExitCode = lifecycle.Exited, 137
	f.containers[name] = c
	return nil
}

// Kill ends a container on SIGKILL, as the kernel does; any other signal
// is left to the container, which here ignores it.
func (f *fakeHost) Kill(_ context.Context, name string, sig lifecycle.Signal) error {
	if err := f.record(fmt.Sprintf("kill %s %s", name, sig.Name)); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[name]
	if !c.State.Active() {
		return fmt.Errorf("%s: not running", name)
	}
	if sig.Number == 9 {
		c.State, c.ExitCode = lifecycle.Exited, 128+sig.Number
		f.containers[name] = c
	}
	return nil
}

func (f *fakeHost) Pause(_ context.Context, name string) error {
	return f.freeze("pause", name, lifecycle.Running, lifecycle.Paused)
}

// UpdateLimits records c's limits as its container's, as the engine does.
func (f *fakeHost) UpdateLimits(_ context.Context, c ContainerSpec) error {
	if err := f.record("update-limits " + c.Name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ctr := f.containers[c.Name]
	ctr.Spec.Resources = c.Service.Resources
	f.containers[c.Name] = ctr
	return nil
}

// RecordContents records c's contents as its container's, as the engine does.
func (f *fakeHost) RecordContents(_ context.Context, c ContainerSpec) error {
	if err := f.record("record-contents " + c.Name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ctr := f.containers[c.Name]
	ctr.Contents = Contents(c)
	f.containers[c.Name] = ctr
	return nil
}

// Drain fails unless the container runs and its ports have moved away,
// as a start-first rollout drains it.
func (f *fakeHost) Drain(_ context.Context, name string, _ time.Duration) error {
	if err := f.record("drain " + name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.containers[name].State.Active() {
		return fmt.Errorf("draining %s: it does not run", name)
	}
	return nil
}

func (f *fakeHost) Unpause(_ context.Context, name string) error {
	return f.freeze("unpause", name, lifecycle.Paused, lifecycle.Running)
}

// freeze moves container name from status from to status to, failing in
// any other status, as the engine does.
func (f *fakeHost) freeze(call, name string, from, to lifecycle.Status) error {
	if err := f.record(call + " " + name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[name]
	if c.State != from {
		return fmt.Errorf("%s: %s, not %s", name, c.State, from)
	}
	c.State = to
	f.containers[name] = c
	return nil
}

func (f *fakeHost) Remove(_ context.Context, name string, _ time.Duration) error {
	if err := f.record("remove " + name); err != nil {
		return err
	}
	f.mu.Lock()
	delete(f.containers, name)
	delete(f.uses, name)
	f.mu.Unlock()
	return nil
}

func (f *fakeHost) Wait(_ context.Context, name string) (int, error) {
	if err := f.record("wait " + name); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[name]
	c.State, c.ExitCode = lifecycle.Exited, f.exitCodes[name]
	f.containers[name] = c
	return c.ExitCode, nil
}

func (f *fakeHost) WaitHealthy(_ context.Context, name string) error {
	return f.record("wait-healthy " + name)
}

// WaitReady reports a container with an entry in exitCodes exited with
// that code, any other running and ready.
func (f *fakeHost) WaitReady(_ context.Context, name string) (bool, int, error) {
	if err := f.record("wait-ready " + name); err != nil {
		return false, 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	code, exited := f.exitCodes[name]
	return exited, code, nil
}

func (f *fakeHost) Restore(_ context.Context, c ContainerSpec) error {
	if err := f.record("restore " + c.Name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ctr := f.containers[c.Name]
	ctr.Unplumbed = false
	f.containers[c.Name] = ctr
	return nil
}

func (f *fakeHost) RefreshHosts(_ context.Context, project string) error {
	return f.record("refresh-hosts " + project)
}

// SwitchPorts fails unless both containers run, as a start-first
// rollout must have them when the ports move.
func (f *fakeHost) SwitchPorts(_ context.Context, from string, to ContainerSpec) error {
	if err := f.record("switch-ports " + from + " " + to.Name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.containers[from].State.Active() || !f.containers[to.Name].State.Active() {
		return fmt.Errorf("switching ports from %s (%s) to %s (%s): both must run", from, f.containers[from].State, to.Name, f.containers[to.Name].State)
	}
	return nil
}

func (f *fakeHost) drivers() Drivers {
	return Drivers{Images: f, Networks: f, Volumes: f, Containers: f, Builder: f}
}

// Observe reports the fake host's state for project p, as the engine would.
func (f *fakeHost) Observe(_ context.Context, p *spec.Project) (Observed, error) {
	return f.observe(p), nil
}

func (f *fakeHost) observe(p *spec.Project) Observed {
	f.mu.Lock()
	defer f.mu.Unlock()
	obs := Observed{Networks: map[string]Presence{}, Volumes: map[string]Presence{}, Images: map[string]string{}}
	for _, c := range f.containers {
		obs.Containers = append(obs.Containers, c)
	}
	sort.Slice(obs.Containers, func(i, j int) bool { return obs.Containers[i].Name < obs.Containers[j].Name })
	for _, n := range p.Networks {
		obs.Networks[n.Name] = Presence{Recorded: f.networks[n.Name] && !n.External, Exists: f.networks[n.Name]}
	}
	for _, v := range p.Volumes {
		obs.Volumes[v.Name] = Presence{Recorded: f.volumes[v.Name] && !v.External, Exists: f.volumes[v.Name]}
	}
	for i := range obs.Containers {
		c := &obs.Containers[i]
		for name, key := range f.anonymous {
			if owner, target, _ := AnonymousOwner(key); owner == c.Name && f.volumes[name] {
				c.Volumes = append(c.Volumes, AnonymousVolume{Target: target, Name: name})
				obs.Volumes[name] = Presence{Recorded: true, Exists: true}
			}
		}
		sort.Slice(c.Volumes, func(i, j int) bool { return c.Volumes[i].Target < c.Volumes[j].Target })
	}
	obs.ImageConfigs = map[string]ImageConfig{}
	for ref, id := range f.images {
		obs.Images[ref] = id
		obs.ImageConfigs[ref] = ImageConfig{Cmd: f.imageCmd(ref), Volumes: f.imageVols[ref]}
	}
	f.observeBuilds(p, &obs)
	return obs
}

// imageCmd is the CMD of image ref.
func (f *fakeHost) imageCmd(ref string) []string {
	if f.bare[ref] {
		return nil
	}
	return []string{"sh"}
}

// calls returns the calls made so far and forgets them.
func (f *fakeHost) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.log
	f.log = nil
	return out
}

// NewFakeHost is a fake host with image busybox, for the driver suite in
// reconcile_test.
func NewFakeHost() interface {
	Observer
	Drivers() Drivers
} {
	f := hostWithImages()
	f.images["busybox"] = f.registry["busybox"]
	return f
}

// Drivers are the fake's drivers.
func (f *fakeHost) Drivers() Drivers { return f.drivers() }
