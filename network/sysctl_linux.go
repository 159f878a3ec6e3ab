package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// setSysctl writes value to /proc/sys/<key> (key in slash form, e.g.
// "net/ipv4/ip_forward") unless it already holds it. The change is
// recorded (see Sysctls) before it is made, so nothing berth changes is
// ever unrecorded; if the write then fails, a fresh record is taken back.
func (h *Host) setSysctl(key, value string) error {
	p := filepath.Join("/proc/sys", key)
	cur, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("reading sysctl %s: %w", dotted(key), err)
	}
	old := string(bytes.TrimSpace(cur))
	if old == value {
		return nil
	}
	var fresh bool
	err = h.editRecord(func(rec []SysctlChange) []SysctlChange {
		fresh = !slices.ContainsFunc(rec, func(c SysctlChange) bool { return c.Key == dotted(key) })
		return recordChange(rec, dotted(key), old, value)
	})
	if err != nil {
		return fmt.Errorf("setting sysctl %s=%s: %w", dotted(key), value, err)
	}
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		if fresh {
			_ = h.editRecord(func(rec []SysctlChange) []SysctlChange {
				return forget(rec, func(k string) bool { return k == dotted(key) })
			})
		}
		return fmt.Errorf("setting sysctl %s=%s: %w", dotted(key), value, err)
	}
	return nil
}

// Sysctls returns what berth changed on this host (as recorded in the
// state directory, or in h's memory without one), sorted by key, for
// `berth info`. Settings of interfaces berth removed are not listed.
func (h *Host) Sysctls() ([]SysctlChange, error) {
	var out []SysctlChange
	err := h.editRecord(func(rec []SysctlChange) []SysctlChange {
		out = slices.Clone(rec)
		return nil // unchanged
	})
	return out, err
}

// forgetInterfaceSysctls drops the record of the per-interface settings
// of ifname, called once the interface is gone (and its settings with it).
func (h *Host) forgetInterfaceSysctls(ifname string) error {
	ofIf := func(key string) bool {
		return strings.HasPrefix(key, dotted("net/ipv4/conf/"+ifname+"/")) ||
			strings.HasPrefix(key, dotted("net/ipv6/conf/"+ifname+"/"))
	}
	return h.editRecord(func(rec []SysctlChange) []SysctlChange {
		if !slices.ContainsFunc(rec, func(c SysctlChange) bool { return ofIf(c.Key) }) {
			return nil
		}
		return forget(rec, ofIf)
	})
}

// editRecord runs fn on the sysctl record and stores what it returns;
// fn returns nil to leave the record unchanged. With a state directory,
// the record is a JSON file guarded by an flock on a lock file beside it
// (berth processes share it) and replaced by rename.
func (h *Host) editRecord(fn func([]SysctlChange) []SysctlChange) error {
	h.sysctlMu.Lock()
	defer h.sysctlMu.Unlock()
	if h.stateDir == "" {
		if rec := fn(h.sysctlMem); rec != nil {
			h.sysctlMem = rec
		}
		return nil
	}
	if err := os.MkdirAll(h.stateDir, 0o700); err != nil {
		return fmt.Errorf("creating state dir: %w", err)
	}
	path := filepath.Join(h.stateDir, sysctlRecord)
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening sysctl record lock: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("locking sysctl record: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading sysctl record: %w", err)
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return err
	}
	rec = fn(rec)
	if rec == nil {
		return nil
	}
	out, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding sysctl record: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing sysctl record: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing sysctl record: %w", err)
	}
	return nil
}
