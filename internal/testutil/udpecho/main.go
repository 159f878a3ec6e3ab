// Command udpecho answers every UDP datagram on the port given as its
// argument with "udp-pong <datagram>". Tests put it into their images to
// check published UDP ports.
package main

import (
	"log"
	"net"
	"os"
)

func main() {
	c, err := net.ListenPacket("udp", ":"+os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			log.Fatal(err)
		}
		c.WriteTo(append([]byte("udp-pong "), buf[:n]...), from)
	}
}
