package network

// Socket is one TCP socket of a network namespace: its local port and
// its state, as the kernel numbers them (in /proc/net/tcp and its socket
// diagnostics alike).
type Socket struct {
	LocalPort uint64
	State     uint64
}

// TCP states (include/net/tcp_states.h).
const (
	tcpEstablished = 0x01
	tcpSynRecv     = 0x03
	tcpFinWait1    = 0x04
	tcpCloseWait   = 0x08
	tcpLastAck     = 0x09
	tcpListen      = 0x0A
	tcpClosing     = 0x0B
)

// Served counts the connections a namespace's servers still serve among
// sockets: those accepted on a port something listens on that are being
// set up, open, or closed with data possibly not yet delivered (the
// server's FIN not acknowledged). Those in FIN_WAIT2 or TIME_WAIT have
// delivered all the server sent.
func Served(sockets []Socket) int {
	listening := map[uint64]bool{}
	for _, s := range sockets {
		if s.State == tcpListen {
			listening[s.LocalPort] = true
		}
	}
	n := 0
	for _, s := range sockets {
		switch s.State {
		case tcpEstablished, tcpSynRecv, tcpFinWait1, tcpCloseWait, tcpLastAck, tcpClosing:
			if listening[s.LocalPort] {
				n++
			}
		}
	}
	return n
}
