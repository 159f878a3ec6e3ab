// Command nettool measures TCP throughput and connection rate through a
// port published by berth's network package (nftables DNAT into a test
// network namespace) against direct loopback, in one run, for
// bench/network.sh. It only talks to 127.0.0.1 and to the namespace it
// makes, for a bounded time and number of connections, and removes
// everything it made (bridge, veth, netns, nft table) before it exits.
// Run as root.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/berth-dev/berth/network"
	"github.com/vishvananda/netns"
)

func main() {
	dur := flag.Duration("duration", 3*time.Second, "how long each throughput run lasts (at most 30s)")
	conns := flag.Int("conns", 3000, "connections per connection-rate run (at most 20000)")
	flag.Parse()
	if *dur > 30*time.Second || *conns > 20000 || *dur <= 0 || *conns <= 0 {
		fmt.Fprintln(os.Stderr, "nettool: -duration must be in (0, 30s] and -conns in (0, 20000]")
		os.Exit(2)
	}
	if err := run(*dur, *conns); err != nil {
		fmt.Fprintln(os.Stderr, "nettool:", err)
		os.Exit(1)
	}
}

// env is what the tool made; teardown removes it.
type env struct {
	h      *network.Host
	br     network.Bridge
	link   network.Link
	ns     string
	dir    string
	owner  string
	cip    netip.Addr
	closer []io.Closer
}

func run(dur time.Duration, conns int) error {
	e, err := setup()
	if e != nil {
		defer e.teardown()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() { <-sig; e.teardown(); os.Exit(130) }()
	}
	if err != nil {
		return err
	}
	// Servers: a sink (reads to EOF, answers the byte count) and an
	// acceptor (closes at once), in the netns and on host loopback.
	var nsSink, nsAcc, loSink, loAcc net.Listener
	if err := inNetNS(e.ns, func() (err error) {
		if nsSink, err = net.Listen("tcp4", net.JoinHostPort(e.cip.String(), "5201")); err != nil {
			return err
		}
		nsAcc, err = net.Listen("tcp4", net.JoinHostPort(e.cip.String(), "5202"))
		return err
	}); err != nil {
		return fmt.Errorf("listening in the netns: %w", err)
	}
	if loSink, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
		return err
	}
	if loAcc, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
		return err
	}
	for _, l := range []net.Listener{nsSink, loSink} {
		e.closer = append(e.closer, l)
		go serveSink(l)
	}
	for _, l := range []net.Listener{nsAcc, loAcc} {
		e.closer = append(e.closer, l)
		go serveAccept(l)
	}
	sinkPort, accPort, err := e.publish()
	if err != nil {
		return err
	}
	paths := []struct{ name, sink, acc string }{
		{"loopback direct", loSink.Addr().String(), loAcc.Addr().String()},
		{"published port (127.0.0.1, DNAT)", "127.0.0.1:" + strconv.Itoa(int(sinkPort)), "127.0.0.1:" + strconv.Itoa(int(accPort))},
		{"container address (veth, no DNAT)", nsSink.Addr().String(), nsAcc.Addr().String()},
	}
	tput := map[string]float64{}
	rate := map[string]float64{}
	for _, p := range paths {
		bps, err := throughput(p.sink, dur)
		if err != nil {
			return fmt.Errorf("throughput via %s: %w", p.name, err)
		}
		cps, err := connRate(p.acc, conns)
		if err != nil {
			return fmt.Errorf("connection rate via %s: %w", p.name, err)
		}
		tput[p.name], rate[p.name] = bps, cps
		fmt.Printf("%-36s throughput %8.2f Gbit/s   connections %8.0f /s\n", p.name, bps*8/1e9, cps)
	}
	d, pub := paths[0].name, paths[1].name
	fmt.Printf("published/direct ratio: throughput %.2f, connection rate %.2f\n", tput[pub]/tput[d], rate[pub]/rate[d])
	return nil
}

func setup() (*env, error) {
	dir, err := os.MkdirTemp("", "berth-nettool-")
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%08x", rand.Uint32())
	e := &env{dir: dir, owner: "nettool-" + id, ns: filepath.Join(dir, "ns")}
	e.h = network.New(network.WithTable("berth_bench"+id), network.WithStateDir(filepath.Join(dir, "state")))
	routes, err := network.HostRoutes()
	if err != nil {
		return e, err
	}
	var sub netip.Prefix
	for range 100 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(200 + rand.IntN(56)), byte(rand.IntN(256)), 0}), 24)
		if sub, err = network.PickSubnet([]netip.Prefix{p}, nil, routes); err == nil {
			break
		}
	}
	if err != nil {
		return e, err
	}
	e.br = network.Bridge{Name: network.BridgeName("nettool-" + id), Subnet: sub, Gateway: sub.Addr().Next()}
	if err := e.h.EnsureBridge(e.br); err != nil {
		return e, err
	}
	if err := network.CreateNetNS(e.ns); err != nil {
		return e, err
	}
	e.cip = e.br.Gateway.Next()
	e.link = network.Link{Bridge: e.br, HostVeth: network.VethName(e.ns, e.br.Name), IfName: "eth0", Addr: netip.PrefixFrom(e.cip, 24), DefaultRoute: true}
	return e, e.h.Attach(e.ns, e.link)
}

// publish maps two free host ports to the netns servers.
func (e *env) publish() (sink, acc uint16, err error) {
	if sink, err = e.h.FreePort("tcp", netip.Addr{}, nil); err != nil {
		return 0, 0, err
	}
	if acc, err = e.h.FreePort("tcp", netip.Addr{}, []uint16{sink}); err != nil {
		return 0, 0, err
	}
	return sink, acc, e.h.PublishPorts(e.owner, []network.PortMapping{
		{HostPort: sink, ContainerIP: e.cip, ContainerPort: 5201, Protocol: "tcp", Bridge: e.br.Name},
		{HostPort: acc, ContainerIP: e.cip, ContainerPort: 5202, Protocol: "tcp", Bridge: e.br.Name},
	})
}

func (e *env) teardown() {
	for _, c := range e.closer {
		c.Close()
	}
	report := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "nettool: cleanup:", err)
		}
	}
	report(e.h.UnpublishPorts(e.owner))
	if e.link.HostVeth != "" {
		report(e.h.Detach(e.link))
	}
	report(network.RemoveNetNS(e.ns))
	if e.br.Name != "" {
		report(e.h.RemoveBridge(e.br))
	}
	report(e.h.DeleteTable())
	report(os.RemoveAll(e.dir))
}

func serveSink(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			n, _ := io.Copy(io.Discard, c)
			c.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
		}()
	}
}

func serveAccept(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// throughput writes to addr for dur and returns the bytes per second the
// server received, counted until it has read everything.
func throughput(addr string, dur time.Duration) (float64, error) {
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 128<<10)
	start := time.Now()
	c.SetWriteDeadline(start.Add(dur))
	for {
		if _, err := c.Write(buf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			return 0, err
		}
	}
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var n [8]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return 0, fmt.Errorf("reading the byte count: %w", err)
	}
	return float64(binary.BigEndian.Uint64(n[:])) / time.Since(start).Seconds(), nil
}

// connRate opens n connections to addr one after the other, each until
// the server closes it, and returns connections per second.
func connRate(addr string, n int) (float64, error) {
	var one [1]byte
	start := time.Now()
	for range n {
		c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(one[:])
		c.Close()
		if !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("waiting for the server to close: %v", err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// inNetNS runs fn on a thread switched into the netns at path; sockets
// fn makes stay in that netns. A thread that cannot switch back stays
// locked and dies with its goroutine.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromPath(path)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
