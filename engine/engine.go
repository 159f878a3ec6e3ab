package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/runtime"
	"github.com/berth-dev/berth/store"
	"github.com/berth-dev/berth/volume"
)

// Engine is berth's view of one host: its state root, run root and the
// drivers that act on them.
type Engine struct {
	Root, RunRoot string
	Images        *image.Store // the image store, for the image verbs

	store   *store.Store
	net     *network.Host
	runtime *runtime.Runtime
	volumes *volume.Manager

	pool     []netip.Prefix
	progress func(image.Progress)
	// buildProgress receives the builds' step events (WithBuildProgress).
	buildProgress func(BuildProgress)
	registries    image.RegistryConfig
	initBinary    string // the static init of services with init: true; "" when there is none
	parsed        parsedSpecs
	shared        sharedPeers // the peers of the creations in flight
	prepared      prestarts   // the containers prepared at their creation, to start next
	etcTop        sync.Once   // <root>/etc made and flagged a top directory
}

// Option configures an Engine.
type Option func(*Engine) error

// WithSubnetPool sets the prefixes new networks' subnets are taken from
// (each split into /24s). The default is network.DefaultPool, or
// BERTH_SUBNET_POOL (comma-separated CIDRs) when set.
func WithSubnetPool(prefixes ...netip.Prefix) Option {
	return func(e *Engine) error { e.pool = split24(prefixes); return nil }
}

// WithRegistries sets registry mirrors and insecure registries, with the
// meanings of Docker's daemon.json keys.
func WithRegistries(c image.RegistryConfig) Option {
	return func(e *Engine) error { e.registries = c; return nil }
}

// WithRuntimeBinary runs containers' shims (and their inits) from the
// berth-runtime program at path instead of re-executing berth itself: it
// starts in a third of the time, and every container start runs it twice.
func WithRuntimeBinary(path string) Option {
	return func(e *Engine) error {
		e.runtime = runtime.New(e.Root, e.RunRoot, runtime.WithCgroupParent(HostName(e.Root)), runtime.WithShimCommand(path, "shim"))
		return nil
	}
}

// WithInitBinary is the static init program (berth-init) that services
// with `init: true` run as PID 1.
func WithInitBinary(path string) Option {
	return func(e *Engine) error { e.initBinary = path; return nil }
}

// WithPullProgress receives the progress of every pull.
func WithPullProgress(fn func(image.Progress)) Option {
	return func(e *Engine) error { e.progress = fn; return nil }
}

// DefaultRoot is berth's state root when none is given.
const DefaultRoot = "/var/lib/berth"

// HostName is the name of berth's host-global objects (its nftables table
// and its cgroup parent) for a state root: "berth" for the default root,
// "berth_<hash>" for any other, so that berths on private roots (tests,
// a second install) never touch each other's.
func HostName(root string) string {
	if filepath.Clean(root) == DefaultRoot {
		return "berth"
	}
	h := sha256.Sum256([]byte(filepath.Clean(root)))
	return "berth_" + hex.EncodeToString(h[:4])
}

// Open opens the engine on a state root and a run root, creating both.
func Open(root, runRoot string, opts ...Option) (*Engine, error) {
	// One spelling of each root: names of host objects (veths, the nft
	// table, the cgroup parent) are derived from it, and two processes
	// spelling one root differently must agree on them.
	//
	// Both are root's alone (0700): the database holds every project's
	// environment, and nothing under either is another user's to reach.
	for _, d := range []*string{&root, &runRoot} {
		if err := os.MkdirAll(*d, 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", *d, err)
		}
		if err := os.Chmod(*d, 0o700); err != nil {
			return nil, fmt.Errorf("securing %s: %w", *d, err)
		}
		canon, err := filepath.EvalSymlinks(*d)
		if err == nil {
			canon, err = filepath.Abs(canon)
		}
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", *d, err)
		}
		*d = canon
	}
	e := &Engine{Root: root, RunRoot: runRoot, volumes: volume.New(root), pool: network.DefaultPool(),
		net:     network.New(network.WithTable(HostName(root)), network.WithStateDir(filepath.Join(runRoot, "network"))),
		runtime: runtime.New(root, runRoot, runtime.WithCgroupParent(HostName(root)))}
	if env := os.Getenv("BERTH_SUBNET_POOL"); env != "" {
		var ps []netip.Prefix
		for _, s := range strings.Split(env, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("BERTH_SUBNET_POOL: %w", err)
			}
			ps = append(ps, p)
		}
		e.pool = split24(ps)
	}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	var err error
	imageOpts := []image.Option{image.WithRegistryConfig(e.registries)}
	if env := os.Getenv("BERTH_MAX_LAYER_SIZE"); env != "" { // bytes; unset: the free space bounds a layer
		n, err := strconv.ParseInt(env, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("BERTH_MAX_LAYER_SIZE %q: want a number of bytes", env)
		}
		imageOpts = append(imageOpts, image.WithMaxLayerSize(n))
	}
	if e.Images, err = image.Open(root, imageOpts...); err != nil {
		return nil, err
	}
	if e.store, err = store.Open(root); err != nil {
		return nil, err
	}
	return e, nil
}

// Close releases the engine's database.
func (e *Engine) Close() error {
	e.releasePrestarts()
	_ = e.runtime.Close() // its starter ends once its starts are answered
	return e.store.Close()
}

// netnsPath is where container name's network namespace is bound.
func (e *Engine) netnsPath(name string) string { return filepath.Join(e.RunRoot, "netns", name) }

// etcDir holds container name's generated hosts, hostname and
// resolv.conf, under the state root as Docker keeps them: on a disk, their
// page cache is reclaimable, where a tmpfs of their own cost every
// container kernel memory that is not (issue 15). A container writing to
// them fills the disk its writable layer is on already, never the run root.
func (e *Engine) etcDir(name string) string { return filepath.Join(e.Root, "etc", name) }

// legacyEtcDir is where berth kept a container's /etc files before,
// a tmpfs of their own under the run root: a container made then still
// binds them from there until it is recreated.
func (e *Engine) legacyEtcDir(name string) string { return filepath.Join(e.RunRoot, "etc", name) }

// etcDirOf is the directory container name's /etc files are in: the
// legacy one for a container made when they were there.
func (e *Engine) etcDirOf(name string) string {
	if dir := e.legacyEtcDir(name); mountPoint(dir) {
		return dir
	}
	return e.etcDir(name)
}

// split24 splits prefixes wider than /24 into /24s, keeping narrower ones.
func split24(prefixes []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range prefixes {
		p = p.Masked()
		if p.Bits() >= 24 || !p.Addr().Is4() {
			out = append(out, p)
			continue
		}
		n := 1 << (24 - p.Bits())
		a := p.Addr().As4()
		base := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8
		for i := 0; i < n; i++ {
			v := base + uint32(i)<<8
			out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24))
		}
	}
	return out
}
