package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/berth-dev/berth/image"
	"github.com/berth-dev/berth/internal/phase"
	"github.com/berth-dev/berth/network"
	"github.com/berth-dev/berth/reconcile"
	"github.com/berth-dev/berth/spec"
	"github.com/berth-dev/berth/store"
	"github.com/berth-dev/berth/volume"
)

// Pull fetches an image into the store.
func (e *Engine) Pull(ctx context.Context, ref, platform string) error {
	_, err := e.Images.Pull(ctx, ref, image.PullOptions{Platform: platform, Progress: e.progress})
	return err
}

// Push uploads image ref to its registry.
func (e *Engine) Push(ctx context.Context, ref string) error {
	return e.Images.Push(ctx, ref, image.PushOptions{Progress: e.progress})
}

// Untag takes image id's entry named ref ("" its untagged one) out of the
// image store.
func (e *Engine) Untag(_ context.Context, ref, id string) error { return e.Images.Untag(ref, id) }

// Collect deletes the image layers that no image entry and no container
// needs, looking at the containers now rather than when it was planned.
func (e *Engine) Collect(ctx context.Context) (int64, error) {
	used, err := e.imageUsers(ctx)
	if err != nil {
		return 0, err
	}
	keep := map[string]bool{}
	for id := range used {
		keep[id] = true
	}
	rep, err := e.Images.Collect(ctx, keep)
	return rep.Reclaimed, err
}

// LookupImages finds what each argument of `image rm` names in the store.
func (e *Engine) LookupImages(names []string) []reconcile.ImageArg {
	out := make([]reconcile.ImageArg, len(names))
	for i, n := range names {
		img, byID, err := e.Images.Lookup(n)
		out[i] = reconcile.ImageArg{Name: n, ByID: byID, Err: err, Missing: errors.Is(err, image.ErrNotFound)}
		if err == nil {
			out[i].Entry = reconcile.ImageEntry{ID: img.ID, Ref: img.Ref}
		}
	}
	return out
}

// optBridgeName is the driver option that names a network's bridge, as Docker names it.
const optBridgeName = "com.docker.network.bridge.name"

// CreateNetwork allocates a subnet for n (unless it has one) and makes its
// bridge. Repeating it after a failure, or after the bridge vanished,
// repairs it with the recorded subnet.
func (e *Engine) CreateNetwork(ctx context.Context, project, key string, n spec.Network) error {
	defer e.dropPeers() // its gateway
	want := store.Network{Name: n.Name, Project: project, Key: key, Internal: n.Internal, Labels: n.Labels,
		Bridge: first(n.DriverOpts[optBridgeName], network.BridgeName(e.Root+"\x00"+n.Name))}
	want.MTU = n.MTU
	for _, pool := range n.IPAM {
		v6 := pool.Subnet.Addr().Is6()
		if v6 && !n.EnableIPv6 {
			return fmt.Errorf("network %s: ipam subnet %s is IPv6, but enable_ipv6 is not set", n.Name, pool.Subnet)
		}
		if !v6 && want.IPRange == "" && pool.IPRange.IsValid() {
			want.IPRange = pool.IPRange.String() // IPv4 addresses come from here
		}
	}
	if bridge := n.DriverOpts[optBridgeName]; bridge != "" {
		// Check refused a foreign bridge; an interface made since is refused here.
		if _, err := e.store.Network(ctx, n.Name); errors.Is(err, store.ErrNotFound) {
			if what := network.LinkHolder(bridge); what != "" {
				return fmt.Errorf("network %s: %w: bridge name %q (%s) is taken by %s on the host, which berth did not create", n.Name, ErrConflict, bridge, optBridgeName, what)
			}
		}
	}
	rec, err := e.store.AllocateNetwork(ctx, want, func(used []string) (store.Addressing, error) {
		return e.pickSubnets(n, used)
	})
	if err != nil {
		return err
	}
	b, err := bridgeOf(rec)
	if err != nil {
		return err
	}
	if err := e.net.EnsureBridge(b); err != nil {
		return err
	}
	return e.net.DeleteStrayVeths(b.Name, func() (map[string]bool, error) {
		eps, err := e.store.Endpoints(ctx)
		return e.recordedVeths(n.Name, eps), err
	})
}

// recordedVeths names the host links of network's recorded endpoints.
func (e *Engine) recordedVeths(network string, eps []store.Endpoint) map[string]bool {
	out := map[string]bool{}
	for _, ep := range eps {
		if ep.Network == network {
			out[e.vethName(ep.Container, network)] = true
		}
	}
	return out
}

// pickSubnets returns the addressing of a new network: the ipam config's
// subnets and gateways, or the first free subnet of the pool (and, with
// enable_ipv6, of the IPv6 pool) that no route of the host overlaps.
func (e *Engine) pickSubnets(n spec.Network, used []string) (store.Addressing, error) {
	var taken []netip.Prefix
	for _, u := range used {
		if p, err := netip.ParsePrefix(u); err == nil {
			taken = append(taken, p)
		}
	}
	routes, err := network.HostRoutes()
	if err != nil {
		return store.Addressing{}, err
	}
	pick := func(v6 bool, pool []netip.Prefix) (string, string, error) {
		for _, c := range n.IPAM {
			if p := c.Subnet.Masked(); p.Addr().Is6() == v6 {
				return p.String(), first(spec.AddrText(c.Gateway), p.Addr().Next().String()), nil
			}
		}
		subnet, err := network.PickSubnet(pool, taken, routes)
		if err != nil {
			return "", "", fmt.Errorf("network %s: %w", n.Name, err)
		}
		return subnet.String(), subnet.Addr().Next().String(), nil
	}
	var a store.Addressing
	if a.Subnet, a.Gateway, err = pick(false, e.pool); err != nil {
		return a, err
	}
	if n.EnableIPv6 {
		if a.Subnet6, a.Gateway6, err = pick(true, network.DefaultPool6()); err != nil {
			return a, err
		}
	}
	return a, nil
}

func bridgeOf(rec store.Network) (network.Bridge, error) {
	subnet, err := netip.ParsePrefix(rec.Subnet)
	if err != nil {
		return network.Bridge{}, fmt.Errorf("network %s: recorded subnet: %w", rec.Name, err)
	}
	gw, err := netip.ParseAddr(rec.Gateway)
	if err != nil {
		return network.Bridge{}, fmt.Errorf("network %s: recorded gateway: %w", rec.Name, err)
	}
	b := network.Bridge{Name: rec.Bridge, Subnet: subnet, Gateway: gw, Internal: rec.Internal, MTU: rec.MTU}
	if rec.Subnet6 != "" {
		if b.Subnet6, err = netip.ParsePrefix(rec.Subnet6); err != nil {
			return b, fmt.Errorf("network %s: recorded IPv6 subnet: %w", rec.Name, err)
		}
		if b.Gateway6, err = netip.ParseAddr(rec.Gateway6); err != nil {
			return b, fmt.Errorf("network %s: recorded IPv6 gateway: %w", rec.Name, err)
		}
	}
	return b, nil
}

// ErrInUse is returned when removing a network or volume a container still uses.
var ErrInUse = errors.New("in use")

// RemoveNetwork removes a network's bridge and record, refusing while a
// container is still attached.
func (e *Engine) RemoveNetwork(ctx context.Context, name string) error {
	defer e.dropPeers()
	rec, err := e.store.Network(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	eps, err := e.store.Endpoints(ctx)
	if err != nil {
		return err
	}
	for _, ep := range eps {
		if ep.Network == name {
			return fmt.Errorf("network %s: %w by container %s (%w)", name, ErrInUse, ep.Container, reconcile.ErrKept)
		}
	}
	b, err := bridgeOf(rec)
	if err != nil {
		return err
	}
	// The links its containers' removal left to the kernel (or left at
	// all, cut short) go before it (see network.Host.RemoveBridge). The
	// host's last network takes berth's nft tables with it, while its
	// link goes, rather than after. The store's answer may be stale
	// (another process's up making its first network); RemoveLastBridge
	// decides again from the kernel's rules under the host lock.
	others, err := e.store.Networks(ctx, "")
	if err != nil {
		return err
	}
	last := !slices.ContainsFunc(others, func(n store.Network) bool { return n.Name != name })
	remove := e.net.RemoveBridge
	if last {
		remove = e.net.RemoveLastBridge
	}
	if err := remove(b); err != nil {
		return err
	}
	end := phase.Start(name, "network.forget")
	err = e.store.DeleteNetwork(ctx, name)
	end()
	if err != nil || last {
		return err
	}
	return e.dropTableIfUnused(ctx)
}

// dropTableIfUnused removes berth's nftables table once no network is
// left, so that a host where every project is down holds nothing of berth.
func (e *Engine) dropTableIfUnused(ctx context.Context) error {
	left, err := e.store.Networks(ctx, "")
	if err != nil || len(left) > 0 {
		return err
	}
	return e.net.DeleteTable()
}

// CreateVolume makes a named volume's directory and records it.
func (e *Engine) CreateVolume(ctx context.Context, project, key string, v spec.Volume) error {
	o := volume.Options{Type: v.DriverOpts["type"], O: v.DriverOpts["o"], Device: v.DriverOpts["device"]}
	// The record comes first, as a container's: berth killed before the
	// volume is made leaves a recorded volume that is missing, which the
	// next up makes and down -v removes, never an unrecorded one that
	// nothing would remove.
	if err := e.store.PutVolume(ctx, store.Volume{Name: v.Name, Project: project, Key: key, Path: e.volumes.Mountpoint(v.Name, o), Labels: v.Labels}); err != nil {
		return err
	}
	if _, err := e.volumes.CreateWith(v.Name, o); err != nil {
		if !e.volumes.Exists(v.Name) {
			_ = e.store.DeleteVolume(context.WithoutCancel(ctx), v.Name) // nothing made: nothing to record
		}
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	return nil
}

// RemoveVolume deletes a named volume and its data, refusing while any
// container on the host mounts it (whatever its project).
func (e *Engine) RemoveVolume(ctx context.Context, name string) error {
	users, err := e.VolumeUsers(name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("volume %s: %w by container %s (%w)", name, ErrInUse, strings.Join(users, ", "), reconcile.ErrKept)
	}
	if err := e.volumes.Remove(name); err != nil {
		return err
	}
	return e.store.DeleteVolume(ctx, name)
}

// VolumeUsers lists the containers whose configuration mounts volume name:
// the runtime's record of what each container mounts is the authority.
func (e *Engine) VolumeUsers(name string) ([]string, error) {
	path := e.volumes.Path(name)
	src, err := e.volumes.Source(name)
	if err == nil && src.Path != "" {
		path = src.Path
	}
	ids, err := e.runtime.List()
	if err != nil {
		return nil, err
	}
	var users []string
	for _, id := range ids {
		cfg, err := e.runtime.Config(id)
		if err != nil {
			continue // a container dir without a config has nothing mounted
		}
		for _, m := range cfg.Mounts {
			if m.Type == "bind" && m.Source == path {
				users = append(users, id)
				break
			}
		}
	}
	return users, nil
}

// Inventory lists every network and volume berth recorded on the host, of
// any project, and every entry of the image store, with the containers
// that use each: what the prunes and removals plan on.
func (e *Engine) Inventory(ctx context.Context) (reconcile.Inventory, error) {
	var inv reconcile.Inventory
	nets, err := e.Networks(ctx)
	if err != nil {
		return inv, err
	}
	for _, n := range nets {
		o := reconcile.Object{Name: n.Name}
		for _, ep := range n.Endpoints {
			o.Users = append(o.Users, ep.Container)
		}
		inv.Networks = append(inv.Networks, o)
	}
	vols, err := e.store.Volumes(ctx, "")
	if err != nil {
		return inv, err
	}
	for _, v := range vols {
		u, err := e.VolumeUsers(v.Name)
		if err != nil {
			return inv, err
		}
		_, _, anon := reconcile.AnonymousOwner(v.Key)
		inv.Volumes = append(inv.Volumes, reconcile.Object{Name: v.Name, Anonymous: anon, Users: u})
	}
	imgs, err := e.Images.List()
	if err != nil {
		return inv, err
	}
	users, err := e.imageUsers(ctx)
	if err != nil {
		return inv, err
	}
	for _, img := range imgs {
		inv.Images = append(inv.Images, reconcile.ImageEntry{ID: img.ID, Ref: img.Ref, Users: users[img.ID]})
	}
	return inv, nil
}
