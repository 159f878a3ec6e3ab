package testutil

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// busybox returns the static busybox binary, failing t when it is absent.
func busybox(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(BusyboxPath)
	if err != nil {
		t.Fatalf("busybox-static is needed (apt-get install busybox-static; .ci/run installs it): %v", err)
	}
	return b
}

// applets lists the applets of the host's busybox.
func applets(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		t.Fatalf("listing busybox applets: %v", err)
	}
	return strings.Fields(string(out))
}

// BusyboxTar returns a root filesystem tarball holding a static busybox at
// /bin/busybox, a symlink /bin/<applet> for each of its applets, and the
// small /etc files a container expects. It is what `docker export` of a
// busybox container looks like, made offline.
func BusyboxTar(t testing.TB) []byte {
	t.Helper()
	return BusyboxTarWith(t, nil)
}

// BusyboxTarWith is BusyboxTar with extra executable files, by absolute
// path (their directories must exist in the busybox tree, e.g. /bin).
func BusyboxTarWith(t testing.TB, extra map[string][]byte) []byte {
	t.Helper()
	bin := busybox(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64) {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode}))
	}
	file := func(name string, mode int64, data []byte) {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}))
		_, err := tw.Write(data)
		must(t, err)
	}
	for _, d := range []string{"bin", "etc", "tmp", "var", "root", "proc", "sys", "dev", "home"} {
		mode := int64(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		dir(d, mode)
	}
	file("bin/busybox", 0o755, bin)
	for _, a := range applets(t) {
		if a == "busybox" {
			continue
		}
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777}))
	}
	file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"))
	file("etc/group", 0o644, []byte("root:x:0:\nnobody:x:65534:\n"))
	for _, name := range sortedKeys(extra) {
		file(strings.TrimPrefix(name, "/"), 0o755, extra[name])
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// BusyboxRootfs unpacks BusyboxTar into a fresh directory under t.TempDir
// and returns it, for tests that need a root filesystem but no image store.
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	must(t, os.MkdirAll(dir, 0o755))
	cmd := exec.Command("tar", "-x", "-C", dir)
	cmd.Stdin = bytes.NewReader(BusyboxTar(t))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unpacking busybox rootfs: %v: %s", err, out)
	}
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
