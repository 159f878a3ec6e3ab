package network

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// setSysctl writes value to /proc/sys/<key> (key in slash form, e.g.
// "net/ipv4/ip_forward") unless it already holds it.
func setSysctl(key, value string) error {
	p := filepath.Join("/proc/sys", key)
	if cur, err := os.ReadFile(p); err == nil && string(bytes.TrimSpace(cur)) == value {
		return nil
	}
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("setting sysctl %s=%s: %w", key, value, err)
	}
	return nil
}
