package spec

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	units "github.com/docker/go-units"
)

// convertProject turns compose-go's project into berth's, noting what berth
// cannot honour into ps.
func convertProject(cp *types.Project, ps *problems) *Project {
	p := &Project{
		Name:       cp.Name,
		WorkingDir: cp.WorkingDir,
		Files:      slices.Clone(cp.ComposeFiles),
		Networks:   map[string]Network{},
		Volumes:    map[string]Volume{},
		loaded:     cp,
	}
	for _, name := range cp.ServiceNames() {
		svc := convertService(cp.Services[name], cp, ps)
		p.Services = append(p.Services, svc)
		if ws := watchedBinds(cp.Services[name], svc, cp.WorkingDir, ps); len(ws) > 0 {
			if p.Watched == nil {
				p.Watched = map[string][]WatchedBind{}
			}
			p.Watched[name] = ws
		}
	}
	for name := range cp.DisabledServices {
		p.Disabled = append(p.Disabled, name)
	}
	slices.Sort(p.Disabled)
	for key, n := range cp.Networks {
		p.Networks[key] = convertNetwork(key, n, ps)
	}
	for key, v := range cp.Volumes {
		p.Volumes[key] = convertVolume(key, v, ps)
	}
	configs := make(map[string]types.FileObjectConfig, len(cp.Configs))
	for k, c := range cp.Configs {
		configs[k] = types.FileObjectConfig(c)
	}
	secrets := make(map[string]types.FileObjectConfig, len(cp.Secrets))
	for k, c := range cp.Secrets {
		secrets[k] = types.FileObjectConfig(c)
	}
	p.Configs = convertFileSources("configs", configs, usedFiles(p.Services, false), cp.Environment, ps)
	p.Secrets = convertFileSources("secrets", secrets, usedFiles(p.Services, true), cp.Environment, ps)
	p.digestWatched()
	return p
}

// validContainerName is what Docker accepts as a container name.
var validContainerName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`) })

// convertService converts one enabled service.
func convertService(cs types.ServiceConfig, cp *types.Project, ps *problems) Service {
	at := serviceAt(cs.Name)
	s := Service{
		Name:          cs.Name,
		Image:         cs.Image,
		Entrypoint:    clonePreservingNil(cs.Entrypoint),
		Command:       clonePreservingNil(cs.Command),
		Environment:   map[string]string{},
		WorkingDir:    cs.WorkingDir,
		User:          cs.User,
		Hostname:      cs.Hostname,
		StopSignal:    cs.StopSignal,
		Restart:       cs.Restart,
		Labels:        map[string]string(cs.Labels),
		Scale:         cs.GetScale(),
		Tty:           cs.Tty,
		StdinOpen:     cs.StdinOpen,
		Init:          cs.Init != nil && *cs.Init,
		ContainerName: cs.ContainerName,
		NoAttach:      cs.Attach != nil && !*cs.Attach,
		ReadOnly:      cs.ReadOnly,
		Profiles:      slices.Clone(cs.Profiles),
		Platform:      cs.Platform,
	}
	if s.ContainerName != "" {
		if !validContainerName().MatchString(s.ContainerName) {
			ps.invalid("container_name "+strconv.Quote(s.ContainerName)+" must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", at("container_name")...)
		}
		if s.Scale > 1 {
			ps.invalid("container_name is set, so the service cannot have more than one replica (scale "+strconv.Itoa(s.Scale)+")", at("container_name")...)
		}
	}
	if !validPlatform(s.Platform) {
		ps.invalid("platform "+strconv.Quote(s.Platform)+` must be "os/arch" or "os/arch/variant"`, at("platform")...)
	}
	for k, v := range cs.Environment {
		if v != nil { // `- FOO` with FOO unset: Compose leaves it out
			s.Environment[k] = *v
		}
	}
	if cs.StopGracePeriod != nil {
		d := time.Duration(*cs.StopGracePeriod)
		s.StopGracePeriod = &d
	}

	policy, refresh, err := cs.GetPullPolicy()
	if err != nil {
		ps.invalid(err.Error(), at("pull_policy")...)
	}
	s.PullPolicy, s.PullRefresh = policy, refresh
	convertBuild(&s, cs, cp, ps)

	if policy, ok := deployRestart(cs, ps); ok {
		s.Restart = policy
		s.RestartDelay, s.RestartWindow = deployRestartTiming(cs, policy, ps)
	}
	if s.Restart == "" {
		s.Restart = types.RestartPolicyNo
	}
	if !validRestart(s.Restart) {
		ps.invalid("restart "+strconv.Quote(s.Restart)+` must be "no", "always", "on-failure[:N]" or "unless-stopped"`, at("restart")...)
	}

	s.Logging = convertLogging(cs.Logging, ps, at)
	s.PostStart = convertHooks(cs.PostStart, ps, at("post_start"))
	s.PreStop = convertHooks(cs.PreStop, ps, at("pre_stop"))
	s.Resources = convertResources(cs, ps)
	if cs.Deploy != nil && cs.Deploy.Mode != "" && cs.Deploy.Mode != "replicated" {
		ps.unsupported("deploy.mode "+cs.Deploy.Mode, at("deploy", "mode")...)
	}
	convertUpdate(&s, cs, cp, ps, at)

	for _, v := range cs.Volumes {
		if m, ok := volumeMount(v, ps, at("volumes")); ok {
			s.Mounts = append(s.Mounts, m)
		}
	}
	for _, t := range cs.Tmpfs {
		if m, ok := tmpfsMount(t, ps, at("tmpfs")); ok {
			s.Mounts = append(s.Mounts, m)
		}
	}

	for _, p := range cs.Ports {
		if p.Protocol != "tcp" && p.Protocol != "udp" {
			ps.unsupported("ports protocol "+p.Protocol, at("ports")...)
			continue
		}
		port := Port{Target: p.Target, Protocol: p.Protocol}
		var err error
		if port.Published, err = ParsePortRange(p.Published); err != nil {
			ps.invalid(err.Error(), at("ports")...)
			continue
		}
		if p.HostIP != "" {
			if port.HostIP, err = netip.ParseAddr(p.HostIP); err != nil {
				ps.invalid("ports host_ip "+strconv.Quote(p.HostIP)+" is not an IP address", at("ports")...)
				continue
			}
		}
		s.Ports = append(s.Ports, port)
	}

	for _, x := range cs.Expose {
		ports, err := exposedPorts(x)
		if err != nil {
			ps.invalid(err.Error(), at("expose")...)
			continue
		}
		s.Expose = append(s.Expose, ports...)
	}

	for name, d := range cs.DependsOn {
		if s.DependsOn == nil {
			s.DependsOn = map[string]Dependency{}
		}
		cond := d.Condition
		if cond == "" {
			cond = types.ServiceConditionStarted
		}
		s.DependsOn[name] = Dependency{Condition: cond, Required: d.Required, Restart: d.Restart}
	}
	s.Healthcheck = convertHealthcheck(cs.HealthCheck, ps, at("healthcheck"))
	s.Security = convertSecurity(cs, cp, ps)
	// After depends_on: network_mode and volumes_from add implied dependencies.
	convertNetworking(&s, cs, cp, ps)
	convertFiles(&s, cs, cp, ps)

	s.normalize()
	return s
}

// clonePreservingNil copies a command keeping nil (use the image's) apart
// from empty (reset the image's).
func clonePreservingNil(c types.ShellCommand) []string {
	if c == nil {
		return nil
	}
	return append([]string{}, c...)
}

func validRestart(r string) bool {
	switch r {
	case "no", "always", "unless-stopped", "on-failure":
		return true
	}
	n, ok := strings.CutPrefix(r, "on-failure:")
	if !ok {
		return false
	}
	_, err := strconv.ParseUint(n, 10, 31)
	return err == nil
}

// validPlatform accepts "" (the host's) and "os/arch[/variant]".
func validPlatform(p string) bool {
	if p == "" {
		return true
	}
	parts := strings.Split(p, "/")
	return (len(parts) == 2 || len(parts) == 3) && !slices.Contains(parts, "")
}

// volumeMount converts one services.*.volumes entry (compose-go turned the
// short syntax into the long one and made bind sources absolute).
func volumeMount(v types.ServiceVolumeConfig, ps *problems, path []string) (Mount, bool) {
	m := Mount{Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
	switch v.Type {
	case types.VolumeTypeVolume:
		m.Type = MountVolume
		m.NoCopy = v.Volume != nil && v.Volume.NoCopy
	case types.VolumeTypeBind:
		m.Type = MountBind
		m.Source = filepath.Clean(v.Source)
		m.CreateHostPath = v.Bind == nil || bool(v.Bind.CreateHostPath)
		if v.Bind != nil {
			m.Propagation = v.Bind.Propagation
		}
		switch m.Propagation {
		case "rprivate":
			m.Propagation = "" // the default, spelled out
		case "", "private", "rshared", "shared", "rslave", "slave":
		default:
			ps.invalid("bind propagation "+strconv.Quote(m.Propagation)+" of "+m.Target+` must be "rprivate", "private", "rshared", "shared", "rslave" or "slave"`, path...)
			return Mount{}, false
		}
	case types.VolumeTypeTmpfs:
		m.Type = MountTmpfs
		m.Source = ""
		if v.Tmpfs != nil {
			m.TmpfsSize = int64(v.Tmpfs.Size)
			m.TmpfsMode = v.Tmpfs.Mode
		}
	default:
		ps.unsupported("volumes of type "+v.Type, path...)
		return Mount{}, false
	}
	return m, true
}

// tmpfsMount parses one services.*.tmpfs entry: "/run" or
// "/run:size=64m,mode=1777,ro" (Docker's --tmpfs syntax).
func tmpfsMount(entry string, ps *problems, path []string) (Mount, bool) {
	target, options, _ := strings.Cut(entry, ":")
	m := Mount{Type: MountTmpfs, Target: filepath.Clean(target)}
	if !filepath.IsAbs(target) {
		ps.invalid("tmpfs "+strconv.Quote(entry)+": target must be an absolute path", path...)
		return m, false
	}
	for _, opt := range strings.Split(options, ",") {
		k, v, _ := strings.Cut(opt, "=")
		var err error
		switch k {
		case "":
		case "rw":
			m.ReadOnly = false
		case "ro":
			m.ReadOnly = true
		case "size":
			m.TmpfsSize, err = units.RAMInBytes(v)
		case "mode":
			var mode uint64
			mode, err = strconv.ParseUint(v, 8, 32)
			m.TmpfsMode = uint32(mode)
		default:
			ps.unsupported("tmpfs option "+strconv.Quote(k), path...)
			return m, false
		}
		if err != nil {
			ps.invalid("tmpfs "+strconv.Quote(entry)+": "+k+": "+err.Error(), path...)
			return m, false
		}
	}
	return m, true
}

// normalize sorts what has no order and turns empty maps and lists into nil
// (except Entrypoint and Command, where empty means "reset"), so that equal
// services compare and encode equal however they were made. It never writes
// into the maps and slices it was given.
func (s *Service) normalize() {
	s.Environment = nilIfEmpty(s.Environment)
	s.Labels = nilIfEmpty(s.Labels)
	if len(s.DependsOn) == 0 {
		s.DependsOn = nil
	}
	if len(s.Networks) == 0 {
		s.Networks = nil
	} else {
		networks := make(map[string]ServiceNetwork, len(s.Networks))
		for name, n := range s.Networks {
			n.Aliases = sortedOrNil(n.Aliases)
			networks[name] = n
		}
		s.Networks = networks
	}
	if len(s.Mounts) == 0 {
		s.Mounts = nil
	}
	if len(s.Ports) == 0 {
		s.Ports = nil
	} else {
		s.Ports = slices.Clone(s.Ports)
		sort.SliceStable(s.Ports, func(i, j int) bool { return portKey(s.Ports[i]) < portKey(s.Ports[j]) })
	}
	s.Profiles = sortedOrNil(s.Profiles)
	s.ExtraHosts = nilIfNone(s.ExtraHosts)
	s.DNS = nilIfNone(s.DNS)
	s.DNSSearch = nilIfNone(s.DNSSearch)
	s.DNSOpt = nilIfNone(s.DNSOpt)
	s.VolumesFrom = nilIfNone(s.VolumesFrom)
	s.Configs = sortedRefs(s.Configs)
	s.Secrets = sortedRefs(s.Secrets)
	s.Security.normalize()
}

// nilIfNone turns an empty list whose order matters into nil.
func nilIfNone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// sortedRefs orders config or secret uses by target (the order in which
// files are placed does not matter), in a copy.
func sortedRefs(refs []FileRef) []FileRef {
	if len(refs) == 0 {
		return nil
	}
	refs = slices.Clone(refs)
	slices.SortStableFunc(refs, func(a, b FileRef) int {
		return strings.Compare(a.Target+"\x00"+a.Source, b.Target+"\x00"+b.Source)
	})
	return refs
}

func portKey(p Port) string {
	return fmt.Sprintf("%05d/%s/%s/%s", p.Target, p.Protocol, AddrText(p.HostIP), p.Published)
}

func sortedOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// convertHealthcheck converts a healthcheck: nil when the file has none
// (the image's HEALTHCHECK applies), Test ["NONE"] when it is disabled.
func convertHealthcheck(h *types.HealthCheckConfig, ps *problems, at []string) *Healthcheck {
	if h == nil {
		return nil
	}
	if h.Disable || len(h.Test) == 0 || h.Test[0] == "NONE" {
		return &Healthcheck{Test: []string{"NONE"}}
	}
	d := func(p *types.Duration) time.Duration {
		if p == nil {
			return 0
		}
		return time.Duration(*p)
	}
	out := &Healthcheck{Test: slices.Clone(h.Test), Interval: d(h.Interval), Timeout: d(h.Timeout), StartPeriod: d(h.StartPeriod),
		StartInterval: d(h.StartInterval)}
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	switch out.Test[0] {
	case "CMD", "CMD-SHELL":
		if len(out.Test) < 2 {
			ps.invalid("healthcheck test "+out.Test[0]+" needs a command", at...)
		}
	default:
		ps.invalid(`healthcheck test must start with "CMD", "CMD-SHELL" or "NONE"`, at...)
	}
	return out
}
