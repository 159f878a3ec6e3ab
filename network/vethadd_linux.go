package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// vethAdd is what makes a veth pair in one request: both ends named,
// the host end with its MTU, queues, master and up, the peer created
// directly in a namespace with its MAC, queues and MTU, down (see
// request).
type vethAdd struct {
	Name, PeerName string
	MTU, Master    int
	PeerNS         int // descriptor of the peer's namespace
	PeerMAC        []byte
	NumTx, NumRx   int // queues each way, on both ends
}

// request is the RTM_NEWLINK that makes v. It asks for an echo of the
// new host end, which names the host end's index and, as its link, the
// peer's index in its namespace; the acknowledgement ends the answer.
func (v vethAdd) request() *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK|unix.NLM_F_ECHO)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Flags, msg.Change = unix.IFF_UP, unix.IFF_UP
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.Name)))
	if v.MTU > 0 {
		req.AddData(nl.NewRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(v.MTU))))
	}
	req.AddData(nl.NewRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(v.NumTx))))
	req.AddData(nl.NewRtAttr(unix.IFLA_NUM_RX_QUEUES, nl.Uint32Attr(uint32(v.NumRx))))
	// The kernel enslaves a new link to its IFLA_MASTER after making it.
	req.AddData(nl.NewRtAttr(unix.IFLA_MASTER, nl.Uint32Attr(uint32(v.Master))))
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("veth"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	peer := data.AddRtAttr(nl.VETH_INFO_PEER, nil)
	// The peer is not made up here: the kernel configures it before the
	// pair is joined, and a veth end without its peer refuses to open.
	nl.NewIfInfomsgChild(peer, unix.AF_UNSPEC)
	peer.AddRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(v.PeerName))
	peer.AddRtAttr(unix.IFLA_NUM_TX_QUEUES, nl.Uint32Attr(uint32(v.NumTx)))
	peer.AddRtAttr(unix.IFLA_NUM_RX_QUEUES, nl.Uint32Attr(uint32(v.NumRx)))
	if v.MTU > 0 {
		peer.AddRtAttr(unix.IFLA_MTU, nl.Uint32Attr(uint32(v.MTU)))
	}
	if v.PeerMAC != nil {
		peer.AddRtAttr(unix.IFLA_ADDRESS, v.PeerMAC)
	}
	peer.AddRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(v.PeerNS)))
	req.AddData(info)
	return req
}

// routeConn is a blocking route netlink socket of the host's namespace
// for requests whose answers the netlink library does not return (an
// echo before the acknowledgement). The kernel answers a request before
// the send returns, so a receive never waits for it. Requests take turns.
type routeConn struct {
	mu  sync.Mutex
	fd  int
	buf []byte
}

// hostRouteConn is this process's routeConn, opened at its first use,
// from a goroutine that never changed namespace (see hostRoute).
var hostRouteConn = sync.OnceValues(func() (*routeConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening netlink: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("opening netlink: %w", err)
	}
	return &routeConn{fd: fd, buf: make([]byte, 64<<10)}, nil
})

// do sends req and returns the messages of type echo answering it, up to
// the acknowledgement, or the error the kernel answered.
func (c *routeConn) do(req *nl.NetlinkRequest, echo uint16) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := unix.Sendto(c.fd, req.Serialize(), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	var out [][]byte
	for {
		n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		msgs, err := syscall.ParseNetlinkMessage(c.buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Seq != req.Seq {
				continue // an answer to an earlier request cut short
			}
			switch m.Header.Type {
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return nil, fmt.Errorf("short netlink error message")
				}
				if errno := int32(binary.NativeEndian.Uint32(m.Data[:4])); errno != 0 {
					return nil, unix.Errno(-errno)
				}
				return out, nil
			case echo:
				out = append(out, append([]byte(nil), m.Data...))
			}
		}
	}
}

// addVeth makes v and returns the indexes of its host end and its peer
// (in the peer's namespace), as the echo of the new link says them; zero
// for what a kernel that does not echo new links (before Linux 6.3)
// left unsaid.
func addVeth(v vethAdd) (index, peerIndex int, err error) {
	c, err := hostRouteConn()
	if err != nil {
		return 0, 0, err
	}
	msgs, err := c.do(v.request(), unix.RTM_NEWLINK)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		if len(m) < unix.SizeofIfInfomsg {
			continue
		}
		info := nl.DeserializeIfInfomsg(m)
		attrs, err := nl.ParseRouteAttr(m[unix.SizeofIfInfomsg:])
		if err != nil {
			return 0, 0, fmt.Errorf("reading the new link: %w", err)
		}
		name, link := "", 0
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				name = unix.ByteSliceToString(a.Value)
			case unix.IFLA_LINK:
				if len(a.Value) >= 4 {
					link = int(binary.NativeEndian.Uint32(a.Value))
				}
			}
		}
		if name == v.Name {
			return int(info.Index), link, nil
		}
	}
	return 0, 0, nil
}
