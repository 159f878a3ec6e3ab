package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// The writer fills its volume once with a known data set, fsynced, and
// then only reads it; every disruption below must leave it intact.
const durableStack = `
services:
  writer:
    image: berth-e2e/busybox:1
    command: ["sh", "-c", "if [ ! -f /data/done ]; then for i in $$(seq 1 20); do head -c 65536 /dev/urandom > /data/f$$i; done; sync; touch /data/done; sync; fi; echo ready; exec sleep 100000"]
    volumes: [data:/data]
    stop_grace_period: 1s
    environment: {GEN: "${GEN:-1}"}
  filler:
    image: ${FILLER_IMAGE:-berth-e2e/busybox:1}
    command: ["sleep", "100000"]
    scale: 6
    stop_grace_period: 1s
volumes:
  data: {}
`

// checksums reads every file of dir.
func checksums(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		sums[e.Name()] = hex.EncodeToString(h[:])
	}
	return sums
}

func sameSums(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// pidsOf lists the processes whose command line contains every word.
func pidsOf(t *testing.T, words ...string) []int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []int
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		all := true
		for _, w := range words {
			all = all && strings.Contains(cmd, w)
		}
		if all {
			pid, _ := strconv.Atoi(strings.Split(d, "/")[2])
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// cgroupProcs lists the processes in container's cgroup (pids controller).
func cgroupProcs(t *testing.T, u *user, container string) []int {
	t.Helper()
	pids, err := procsOf(u, container)
	if err != nil {
		t.Fatalf("reading %s's cgroup: %v", container, err)
	}
	return pids
}

// procsOf lists the processes in container's cgroup (pids controller), or
// fails when the cgroup is not there (yet).
func procsOf(u *user, container string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/pids", engine.HostName(u.root), container, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		pids = append(pids, pid)
	}
	return pids, nil
}

// killDuring starts berth with args, SIGKILLs it once its output shows
// want, and waits for it.
func killDuring(t *testing.T, u *user, want string, args ...string) {
	t.Helper()
	cmd := exec.Command(u.bin, append([]string{"-p", u.project}, args...)...)
	cmd.Dir, cmd.Env = u.dir, u.env
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		if !killed && strings.Contains(sc.Text(), want) {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Logf("berth %v finished before %q showed; nothing was interrupted", args, want)
	}
}

func TestVolumeDataSurvivesEverything(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, durableStack, "-v", "-t", "0")
	writer := u.project + "-writer-1"
	data := filepath.Join(u.root, "volumes", u.project+"_data", "_data")
	waitReady := func(step string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if out, _ := u.try("logs", "--tail", "1", "writer"); strings.Contains(out, "ready") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the writer never became ready", step)
			}
		}
	}
	u.run("up", "-d")
	waitReady("first up")
	want := checksums(t, data)
	if len(want) != 21 {
		t.Fatalf("the data set has %d files", len(want))
	}
	check := func(step string) {
		t.Helper()
		u.run("up", "-d")
		waitReady(step)
		if got := checksums(t, data); !sameSums(got, want) {
			t.Fatalf("after %s the data set changed", step)
		}
	}

	u.run("down")
	check("down and up")

	u.setenv("GEN=2")
	check("recreate by config change")

	tar := filepath.Join(t.TempDir(), "other.tar")
	os.WriteFile(tar, testutil.BusyboxTarWith(t, map[string][]byte{"/bin/marker": []byte("#!/bin/sh\n")}), 0o644)
	u.run("image", "import", tar, "berth-e2e/busybox:1") // same tag, new image: every service is recreated
	check("recreate by image change")

	for _, pid := range cgroupProcs(t, u, writer) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	// Until its shim records the exit, the container still shows running
	// (as in Docker until containerd's event) and an up changes nothing.
	u.waitOutput("Exited", "ps", "-a", "writer")
	check("kill -9 of the container")

	shims := pidsOf(t, "shim", writer)
	if len(shims) != 1 {
		t.Fatalf("want one shim of %s, found %v", writer, shims)
	}
	syscall.Kill(shims[0], syscall.SIGKILL)
	check("kill -9 of the shim")

	u.setenv("GEN=3")
	u.setenv("FILLER_IMAGE=berth-e2e/busybox:1")
	killDuring(t, u, "Creating", "up", "-d") // a recreate: stopped and removed, being made again
	check("kill -9 of berth during up")

	killDuring(t, u, "Removing", "down")
	check("kill -9 of berth during down")
}
