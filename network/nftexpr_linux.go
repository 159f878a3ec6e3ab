package network

import (
	"encoding/binary"
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

// IPv4 header offsets of the source and destination addresses.
const (
	offSaddr = 12
	offDaddr = 16
)

// ipPrefix: `ip saddr 10.0.0.0/24` (off = offSaddr) or `ip daddr ...`.
func ipPrefix(off uint32, p netip.Prefix) []expr.Any {
	p = p.Masked()
	e := []expr.Any{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4}}
	if p.Bits() < 32 {
		mask := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-p.Bits()))
		e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)})
	}
	return append(e, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()})
}

// ipAddr: `ip daddr 192.0.2.1` (or saddr).
func ipAddr(off uint32, a netip.Addr) []expr.Any {
	return ipPrefix(off, netip.PrefixFrom(a, 32))
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

// dnat: `dnat to 10.89.0.2:80`.
func dnat(a netip.Addr, port uint16) []expr.Any {
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: a.AsSlice()},
		&expr.Immediate{Register: 2, Data: binary.BigEndian.AppendUint16(nil, port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	}
}

func masquerade() []expr.Any { return []expr.Any{&expr.Masq{}} }
func accept() []expr.Any     { return []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}} }
func drop() []expr.Any       { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }
