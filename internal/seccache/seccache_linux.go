//go:build linux && cgo && seccomp

package seccache

// #cgo pkg-config: libseccomp
// #cgo LDFLAGS: -Wl,--wrap=seccomp_init -Wl,--wrap=seccomp_reset -Wl,--wrap=seccomp_release -Wl,--wrap=seccomp_merge
// #cgo LDFLAGS: -Wl,--wrap=seccomp_arch_add -Wl,--wrap=seccomp_arch_remove -Wl,--wrap=seccomp_load -Wl,--wrap=seccomp_attr_set
// #cgo LDFLAGS: -Wl,--wrap=seccomp_syscall_priority -Wl,--wrap=seccomp_rule_add_array -Wl,--wrap=seccomp_rule_add_exact_array
// #cgo LDFLAGS: -Wl,--wrap=seccomp_export_pfc -Wl,--wrap=seccomp_export_bpf -Wl,--wrap=seccomp_export_bpf_mem -Wl,--wrap=seccomp_precompute
// #cgo LDFLAGS: -Wl,--wrap=seccomp_transaction_start -Wl,--wrap=seccomp_transaction_commit -Wl,--wrap=seccomp_transaction_reject -Wl,--wrap=seccomp_api_set
// #include "seccache.h"
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/runc/libcontainer/configs"
	"golang.org/x/sys/unix"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// Enabled: this binary tracks libseccomp's calls (built with libseccomp).
const Enabled = true

// Arm, in a container's init before libcontainer's init runs, takes the
// offer its shim passed as the first of the process's extra files (fd 3),
// if it is one (see the package doc); otherwise it reads nothing and
// libseccomp runs as usual.
func Arm() {
	if os.Getenv("_LIBCONTAINER_INITTYPE") != "standard" {
		return
	}
	// libcontainer's own descriptors come after the process's extra files:
	// with none given, fd 3 is one of them.
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "_LIBCONTAINER_") && strings.HasSuffix(e, "="+strconv.Itoa(offerFd)) {
			return
		}
	}
	arm(offerFd)
}

// arm takes the offer queued on fd (berth_seccache_arm): 1 armed with an
// entry, 0 armed without one, -1 not armed.
func arm(fd int) int { return int(C.berth_seccache_arm(C.int(fd))) }

// offerFd is where the init finds the offer: the first extra file.
const offerFd = 3

// Stats are the init side's counters, for tests.
type Stats struct {
	Hits, RealExports, RealRules uint64
}

// ReadStats returns this process's counters.
func ReadStats() Stats {
	var s C.struct_berth_seccache_stats
	C.berth_seccache_stats(&s)
	return Stats{Hits: uint64(s.hits), RealExports: uint64(s.real_exports), RealRules: uint64(s.real_rules)}
}

// Offer is one container start's channel to its init: the entry kept for
// its filter (if any) goes one way, a miss's result comes back.
type Offer struct {
	path    string   // where the entry is kept
	mine    *os.File // the shim's end of the socket pair
	child   *os.File // the init's end
	offered bool     // an entry was offered
}

// NewOffer prepares the offer for a container whose filter is sc, with
// entries kept in dir. nil (and no error) when there is nothing to offer:
// no filter, or the cache turned off (Env). Pass File as the init's only
// extra file (libcontainer's Process.ExtraFiles), then call Collect once
// libcontainer's Start returned, or Close on failure.
func NewOffer(dir string, sc *configs.Seccomp) (*Offer, error) {
	if sc == nil || os.Getenv(Env) == Off {
		return nil, nil
	}
	o := &Offer{path: EntryPath(dir, sc)}
	frame := append(append([]byte{}, magic...), make([]byte, 8)...) // no entry: empty log and program
	if b, err := os.ReadFile(o.path); err == nil {
		if e, err := Unmarshal(b); err == nil {
			frame, o.offered = e.frame(), true
		}
	}
	if err := o.open(frame); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// EntryPath is where the entry for filter sc is kept in dir: named by a
// hash of sc, which only finds it (the init checks the entry itself).
func EntryPath(dir string, sc *configs.Seccomp) string {
	return filepath.Join(dir, entryName(sc))
}

// open makes the socket pair and queues frame for the init.
func (o *Offer) open(frame []byte) error {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("seccomp cache offer: %w", err)
	}
	o.mine, o.child = os.NewFile(uintptr(p[0]), "seccache"), os.NewFile(uintptr(p[1]), "seccache-init")
	// Room for a whole offer and a whole result, each one message.
	for _, fd := range p {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 2*maxEntry) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 2*maxEntry)
		}
	}
	if err := unix.Sendmsg(p[0], frame, nil, nil, unix.MSG_DONTWAIT); err != nil {
		return fmt.Errorf("seccomp cache offer: %w", err)
	}
	return nil
}

// File is the init's end of the offer, to pass as its extra file.
func (o *Offer) File() *os.File { return o.child }

// Close releases the offer, keeping nothing.
func (o *Offer) Close() {
	if o == nil {
		return
	}
	for _, f := range []*os.File{o.mine, o.child} {
		if f != nil {
			_ = f.Close()
		}
	}
	o.mine, o.child = nil, nil
}

// Collect, once the init has installed its filter, closes the offer and
// keeps the init's result, if a miss sent one. The init sends it and
// shuts its end before libcontainer's Start returns; a result not
// followed by that end is dropped.
func (o *Offer) Collect() {
	if o == nil {
		return
	}
	_ = o.child.Close()
	o.child = nil
	b, err := receiveNow(int(o.mine.Fd()))
	o.Close()
	if err != nil || len(b) == 0 {
		return
	}
	if e, err := parseFrame(b); err == nil {
		_ = keep(o.path, e)
	}
}

// receiveNow returns the one message queued on fd (none: nil) if the
// peer has shut its end; an error if it has not yet.
func receiveNow(fd int) ([]byte, error) {
	buf := make([]byte, maxEntry+1)
	var msg []byte
	for {
		n, _, flags, _, err := unix.Recvmsg(fd, buf, nil, unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return nil, err
		case n == 0:
			return msg, nil // the peer's end is shut
		case msg != nil || flags&unix.MSG_TRUNC != 0:
			return nil, errors.New("seccomp cache: unexpected result")
		}
		msg = append([]byte{}, buf[:n]...)
	}
}

// keep writes e at path, whole or not at all.
func keep(path string, e Entry) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	err := atomicfile.Write(path, e.Marshal())
	removeStale(filepath.Dir(path), time.Now().Add(-staleTemp))
	return err
}

// staleTemp is the age past which a temporary entry file is one a
// crashed shim left: a shim writes and renames its own within moments.
const staleTemp = 10 * time.Minute

// removeStale removes the temporary entry files in dir last changed
// before cutoff, and the entries of an earlier naming (staleEntryName),
// which no shim looks up any more.
func removeStale(dir string, cutoff time.Time) {
	names, _ := os.ReadDir(dir)
	for _, de := range names {
		name := filepath.Join(dir, de.Name())
		if !strings.HasPrefix(de.Name(), ".") { // atomicfile's, and ".tmp-*" of earlier builds
			if de.Type().IsRegular() && staleEntryName(de.Name()) {
				_ = os.Remove(name)
			}
			continue
		}
		if fi, err := os.Lstat(name); err == nil && fi.ModTime().Before(cutoff) {
			_ = os.Remove(name)
		}
	}
}
