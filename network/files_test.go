package network

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestHostsFile(t *testing.T) {
	got := string(HostsFile([]HostEntry{
		{IP: netip.MustParseAddr("10.89.0.3"), Names: []string{"db", "proj-db-1", "database"}},
		{IP: netip.MustParseAddr("10.89.0.2"), Names: []string{"web", "proj-web-1"}},
		{IP: netip.MustParseAddr("10.89.0.9")}, // no names: dropped
		{Names: []string{"ghost"}},             // no address: dropped
		{IP: netip.MustParseAddr("10.89.0.2"), Names: []string{"web-alias"}},
	}))
	want := "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"ff00::0\tip6-mcastprefix\n" +
		"ff02::1\tip6-allnodes\n" +
		"ff02::2\tip6-allrouters\n" +
		"10.89.0.2\tweb proj-web-1\n" +
		"10.89.0.2\tweb-alias\n" +
		"10.89.0.3\tdb proj-db-1 database\n"
	if got != want {
		t.Errorf("HostsFile:\n%s\nwant:\n%s", got, want)
	}
	if empty := string(HostsFile(nil)); empty != localhostLines {
		t.Errorf("HostsFile(nil) = %q", empty)
	}
}

func TestHostsFileOrderIndependent(t *testing.T) {
	a := HostEntry{IP: netip.MustParseAddr("10.89.0.10"), Names: []string{"a"}}
	b := HostEntry{IP: netip.MustParseAddr("10.89.0.9"), Names: []string{"b"}}
	if x, y := HostsFile([]HostEntry{a, b}), HostsFile([]HostEntry{b, a}); string(x) != string(y) {
		t.Errorf("order of entries changes the file:\n%s\nvs\n%s", x, y)
	}
}

func TestResolvConf(t *testing.T) {
	tests := []struct{ name, host, want string }{
		{
			name: "systemd-resolved stub only",
			host: "# managed by systemd-resolved\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example\n",
			want: "# managed by systemd-resolved\noptions edns0 trust-ad\nsearch corp.example\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n",
		},
		{
			name: "mixed loopback and real",
			host: "nameserver 127.0.0.1\nnameserver ::1\nnameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch a.example b.example\noptions ndots:2\n",
			want: "nameserver 192.0.2.53\nnameserver 2001:db8::53\nsearch a.example b.example\noptions ndots:2\n",
		},
		{
			name: "other 127/8 addresses and tabs",
			host: "nameserver\t127.1.2.3\nnameserver 10.0.0.2\n",
			want: "nameserver 10.0.0.2\n",
		},
		{
			name: "empty",
			host: "",
			want: "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
		},
		{
			name: "no trailing newline",
			host: "domain example.org\nnameserver 198.51.100.1",
			want: "domain example.org\nnameserver 198.51.100.1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(ResolvConf([]byte(tt.host))); got != tt.want {
				t.Errorf("ResolvConf:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestWriteFileInPlace(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hosts")
	if err := WriteFileInPlace(p, []byte("x\n")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing file must not be created: %v", err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileInPlace(p, []byte("a long first version\n")); err != nil {
		t.Fatal(err)
	}
	before := inode(t, p)
	if err := WriteFileInPlace(p, []byte("short\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); strings.TrimRight(string(got), "\n") != "short" {
		t.Errorf("contents = %q, want %q and maybe blank lines", got, "short\n")
	}
	// Padding beyond both the data's length and shrinkSlack is cut off.
	if err := WriteFileInPlace(p, []byte(strings.Repeat("x", 2*shrinkSlack)+"\n")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileInPlace(p, []byte("short\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "short\n" {
		t.Errorf("contents after shrinking = %q, want %q", got, "short\n")
	}
	if after := inode(t, p); after != before {
		t.Errorf("inode changed from %d to %d: a bind mount of the file would go stale", before, after)
	}
	if err := WriteFileInPlace(filepath.Join(t.TempDir(), "missing", "x"), nil); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestValidate(t *testing.T) {
	good := Bridge{Name: "br-0123456789ab", Subnet: netip.MustParsePrefix("10.89.0.0/24"), Gateway: netip.MustParseAddr("10.89.0.1")}
	if err := good.validate(); err != nil {
		t.Errorf("valid bridge: %v", err)
	}
	bad := Bridge{Name: "much-too-long-bridge", Subnet: netip.MustParsePrefix("fd00::/64"), Gateway: netip.MustParseAddr("10.1.0.1")}
	if err := bad.validate(); err == nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid bridge: err = %v, want ErrInvalid", err)
	}
	l := Link{Bridge: good, HostVeth: "veth0123456789a", IfName: "eth0", Addr: netip.MustParsePrefix("10.89.0.2/24")}
	if err := l.validate(); err != nil {
		t.Errorf("valid link: %v", err)
	}
	l.Addr = netip.MustParsePrefix("10.89.0.2/32")
	if err := l.validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("link with /32: err = %v, want ErrInvalid", err)
	}
	pm := PortMapping{HostPort: 8080, ContainerIP: netip.MustParseAddr("10.89.0.2"), ContainerPort: 80, Protocol: "tcp"}
	if err := pm.validate(); err != nil || !pm.allHosts() {
		t.Errorf("valid mapping: %v, allHosts %v", err, pm.allHosts())
	}
	pm.HostIP = netip.MustParseAddr("::")
	if err := pm.validate(); err != nil || !pm.allHosts() {
		t.Errorf(":: mapping: %v, allHosts %v", err, pm.allHosts())
	}
	pm.Protocol = "sctp"
	if err := pm.validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("sctp mapping: err = %v, want ErrInvalid", err)
	}
}

func TestOnlyLoopbackNameservers(t *testing.T) {
	for conf, want := range map[string]bool{
		"nameserver 127.0.0.53\noptions edns0\n":       true,
		"nameserver 127.0.0.1\nnameserver ::1\n":       true,
		"nameserver 127.0.0.53\nnameserver 10.0.0.1\n": false,
		"search example.org\n":                         false,
		"nameserver bogus\n":                           false,
	} {
		if got := onlyLoopbackNameservers([]byte(conf)); got != want {
			t.Errorf("onlyLoopbackNameservers(%q) = %v, want %v", conf, got, want)
		}
	}
}

// BenchmarkHostsFile renders the /etc/hosts of a container among 50
// peers (RefreshHosts renders one per container of an up).
func BenchmarkHostsFile(b *testing.B) {
	var es []HostEntry
	for i := 1; i <= 50; i++ {
		es = append(es, HostEntry{IP: netip.AddrFrom4([4]byte{10, 1, 0, byte(i * 7 % 250)}), Names: []string{"s" + strconv.Itoa(i), "shop-s" + strconv.Itoa(i) + "-1"}})
	}
	for b.Loop() {
		HostsFile(es)
	}
}
