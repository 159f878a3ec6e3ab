package network

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// PortHolder says who has port bound for proto ("tcp" or "udp") on ip
// (invalid or unspecified: any address) on the host, "" when it can be
// bound: "process 1234 (nginx)" when the socket's owner can be found in
// /proc, else "another socket". Only EADDRINUSE counts: an address the
// host does not have is no one's.
func PortHolder(proto string, ip netip.Addr, port uint16) string {
	if err := bindErr(proto, ip, port); !errors.Is(err, unix.EADDRINUSE) {
		return ""
	}
	if pid, comm := socketOwner(proto, port); pid != 0 {
		return fmt.Sprintf("process %d (%s)", pid, comm)
	}
	return "another socket"
}

// socketOwner finds a process with a socket bound to port: the socket's
// inode from /proc/net/<proto>{,6}, then the process holding it.
func socketOwner(proto string, port uint16) (int, string) {
	inodes := map[string]bool{}
	for _, file := range []string{proto, proto + "6"} {
		f, err := os.Open(filepath.Join("/proc/net", file))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			p, err := strconv.ParseUint(hexPort, 16, 16)
			// a TCP socket holds its port while listening (state 0A); a UDP one while bound
			if ok && err == nil && uint16(p) == port && (proto == "udp" || fields[3] == "0A") {
				inodes["socket:["+fields[9]+"]"] = true
			}
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return 0, ""
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, fdDir := range procs {
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(fdDir, fd.Name())); err == nil && inodes[target] {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(fdDir)))
				comm, _ := os.ReadFile(filepath.Join(filepath.Dir(fdDir), "comm"))
				return pid, strings.TrimSpace(string(comm))
			}
		}
	}
	return 0, ""
}

// LinkHolder says what interface called name exists on the host ("bridge
// br0", "veth eth9"), "" when there is none.
func LinkHolder(name string) string {
	link, err := netlink.LinkByName(name)
	if isNotFound(err) {
		return ""
	}
	if err != nil {
		return fmt.Sprintf("interface %s (%v)", name, err)
	}
	return fmt.Sprintf("%s interface %s", link.Type(), name)
}
