package network

import "testing"

// Only connections accepted on a listening port and not yet done count:
// not the listener, not a connection the namespace made itself, not one
// in FIN_WAIT2 or TIME_WAIT, whose data was delivered.
func TestServed(t *testing.T) {
	sockets := []Socket{
		{LocalPort: 80, State: tcpListen},
		{LocalPort: 80, State: tcpEstablished},
		{LocalPort: 80, State: tcpCloseWait},
		{LocalPort: 80, State: tcpSynRecv},
		{LocalPort: 80, State: 0x06},              // TIME_WAIT
		{LocalPort: 80, State: 0x04},              // FIN_WAIT1: the server closed it
		{LocalPort: 41000, State: tcpEstablished}, // outgoing
	}
	if got := Served(sockets); got != 4 {
		t.Errorf("Served = %d, want 4", got)
	}
	if got := Served(nil); got != 0 {
		t.Errorf("Served(nil) = %d", got)
	}
}
