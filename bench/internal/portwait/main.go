// Command portwait measures how long a published port takes to answer:
// it starts a command (berth up -d, say) and, from the moment before the
// exec, asks ADDR for "GET /" over HTTP/1.0 in a tight loop (a fresh
// connection every 0.2 ms) until an answer's status line arrives. It
// prints the seconds from the exec to that answer and waits for the
// command, whose failure it reports.
// Usage: portwait [-timeout 30s] ADDR CMD [ARG...]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"
)

func main() {
	timeout := flag.Duration("timeout", 30*time.Second, "give up after this long")
	flag.Parse()
	if flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: portwait [-timeout D] ADDR CMD [ARG...]")
		os.Exit(2)
	}
	addr := flag.Arg(0)
	cmd := exec.Command(flag.Arg(1), flag.Args()[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "portwait:", err)
		os.Exit(1)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		if answers(addr) {
			break
		}
		if time.Since(start) > *timeout {
			fmt.Fprintf(os.Stderr, "portwait: %s did not answer within %s\n", addr, *timeout)
			os.Exit(1)
		}
		time.Sleep(200 * time.Microsecond)
	}
	took := time.Since(start)
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "portwait: the command failed:", err)
		os.Exit(1)
	}
	fmt.Printf("%.6f\n", took.Seconds())
}

// answers reports whether an HTTP server at addr answered a request.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "HTTP/")
}
