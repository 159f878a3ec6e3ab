package network

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Builders of nftables expressions for berth's rules, each the netlink
// form of one nft match or statement (named in its comment). All matches
// load into register 1; the DNAT target uses registers 1 and 2.

// ifname is an interface name as nft compares it: 16 bytes, NUL padded.
func ifname(name string) []byte {
	b := make([]byte, 16)
	copy(b, name)
	return b
}

// metaIfname: `iifname NAME`, `oifname != NAME`, ...
func metaIfname(key expr.MetaKey, op expr.CmpOp, name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: ifname(name)},
	}
}

func iif(name string) []expr.Any    { return metaIfname(expr.MetaKeyIIFNAME, expr.CmpOpEq, name) }
func notIif(name string) []expr.Any { return metaIfname(expr.MetaKeyIIFNAME, expr.CmpOpNeq, name) }
func oif(name string) []expr.Any    { return metaIfname(expr.MetaKeyOIFNAME, expr.CmpOpEq, name) }
func notOif(name string) []expr.Any { return metaIfname(expr.MetaKeyOIFNAME, expr.CmpOpNeq, name) }

// addrField names the source or destination address of the network
// header; its offset depends on the family of the address compared.
type addrField int

const (
	offSaddr addrField = iota
	offDaddr
)

// offset returns the header offset of f in an IPv4 (4-byte addresses)
// or IPv6 (16-byte addresses) header.
func (f addrField) offset(addrLen int) uint32 {
	if addrLen == 16 {
		return [...]uint32{8, 24}[f]
	}
	return [...]uint32{12, 16}[f]
}

// ipPrefix: `ip saddr 10.0.0.0/24` (f = offSaddr), `ip daddr ...`, or
// `ip6 saddr fd00::/64` for an IPv6 prefix. The rule must live in a table
// of the prefix's family: the match reads the header at fixed offsets.
func ipPrefix(f addrField, p netip.Prefix) []expr.Any {
	p = p.Masked()
	n := p.Addr().BitLen() / 8
	e := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: f.offset(n), Len: uint32(n)}}
	if p.Bits() < p.Addr().BitLen() {
		mask := net.CIDRMask(p.Bits(), p.Addr().BitLen())
		e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: uint32(n), Mask: mask, Xor: make([]byte, n)})
	}
	return append(e, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()})
}

// ipAddr: `ip daddr 192.0.2.1` (or saddr, or ip6).
func ipAddr(f addrField, a netip.Addr) []expr.Any {
	return ipPrefix(f, netip.PrefixFrom(a, a.BitLen()))
}

// notIPAddr: `ip daddr != 192.0.2.1` (or saddr, or ip6).
func notIPAddr(f addrField, a netip.Addr) []expr.Any {
	e := ipAddr(f, a)
	e[len(e)-1].(*expr.Cmp).Op = expr.CmpOpNeq
	return e
}

// l4Port: `tcp dport 8080` / `udp dport 53`.
func l4Port(proto string, port uint16) []expr.Any {
	p := byte(unix.IPPROTO_TCP)
	if proto == "udp" {
		p = unix.IPPROTO_UDP
	}
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, port)},
	}
}

// localDaddr: `fib daddr type local`.
func localDaddr() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.NativeEndian.AppendUint32(nil, unix.RTN_LOCAL)},
	}
}

// ctBits: `ct KEY & BITS != 0`, as nft writes `ct state established,related`.
func ctBits(key expr.CtKey, bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: key},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binary.NativeEndian.AppendUint32(nil, bits), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

func ctState(bits uint32) []expr.Any { return ctBits(expr.CtKeySTATE, bits) }

// ipsDstNAT is the conntrack status bit IPS_DST_NAT (1 << IPS_DST_NAT_BIT).
const ipsDstNAT = 1 << 5

// ctDNAT: `ct status dnat`.
func ctDNAT() []expr.Any { return ctBits(expr.CtKeySTATUS, ipsDstNAT) }

// notCtDNAT: `ct status & dnat == 0`, a connection not to a published port.
func notCtDNAT() []expr.Any {
	e := ctBits(expr.CtKeySTATUS, ipsDstNAT)
	e[len(e)-1] = &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: make([]byte, 4)}
	return e
}

// dnat: `dnat to 10.89.0.2:80` or `dnat to [fd00::2]:80`.
func dnat(a netip.Addr, port uint16) []expr.Any {
	family := uint32(unix.NFPROTO_IPV4)
	if a.Is6() {
		family = unix.NFPROTO_IPV6
	}
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: a.AsSlice()},
		&expr.Immediate{Register: 2, Data: binary.BigEndian.AppendUint16(nil, port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: family, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

func masquerade() []expr.Any { return []expr.Any{&expr.Masq{}} }
func accept() []expr.Any     { return []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}} }
func drop() []expr.Any       { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }
