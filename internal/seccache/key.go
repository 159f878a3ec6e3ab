package seccache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// entryName names the entry kept for filter sc: a hash of every field of
// sc, written out by hand instead of marshalled to JSON, which in a fresh
// shim costs a third of a millisecond for Docker's profile (and is done
// again when libcontainer sends the configuration to the init). The name
// only finds an entry: two filters sharing one would each miss and
// replace the other's, never take it, as the init checks the entry's log.
func entryName(sc *configs.Seccomp) string {
	k := keyWriter{b: make([]byte, 0, 256+64*len(sc.Syscalls))}
	k.int(int64(sc.DefaultAction))
	k.strings(sc.Architectures)
	k.int(int64(len(sc.Flags)))
	for _, f := range sc.Flags {
		k.str(string(f))
	}
	k.uintp(sc.DefaultErrnoRet)
	k.str(sc.ListenerPath)
	k.str(sc.ListenerMetadata)
	k.int(int64(len(sc.Syscalls)))
	for _, s := range sc.Syscalls {
		if s == nil {
			k.int(-1)
			continue
		}
		k.str(s.Name)
		k.int(int64(s.Action))
		k.uintp(s.ErrnoRet)
		k.int(int64(len(s.Args)))
		for _, a := range s.Args {
			if a == nil {
				k.int(-1)
				continue
			}
			k.int(int64(a.Index))
			k.int(int64(a.Value))
			k.int(int64(a.ValueTwo))
			k.int(int64(a.Op))
		}
	}
	sum := sha256.Sum256(k.b)
	return entryScheme + hex.EncodeToString(sum[:16])
}

// entryScheme starts the name of every entry of the current naming (a
// name of an earlier one is never looked up again): change it with the
// key, and keep removes the entries named otherwise (staleEntryName).
const entryScheme = "k2-"

// staleEntryName reports whether name is that of an entry of an earlier
// naming: 32 lowercase hex digits alone (the first) or after a scheme
// other than entryScheme. Other files are left alone.
func staleEntryName(name string) bool {
	if len(name) < 32 {
		return false
	}
	scheme, h := name[:len(name)-32], name[len(name)-32:]
	if _, err := hex.DecodeString(h); err != nil || strings.ToLower(h) != h {
		return false
	}
	return scheme == "" || scheme != entryScheme && strings.HasSuffix(scheme, "-") && !strings.ContainsAny(scheme, ".")
}

// keyWriter encodes values unambiguously: fixed-size integers, strings
// and lists after their length, optional values after a presence flag.
type keyWriter struct{ b []byte }

func (k *keyWriter) int(v int64) { k.b = binary.LittleEndian.AppendUint64(k.b, uint64(v)) }

func (k *keyWriter) str(s string) {
	k.int(int64(len(s)))
	k.b = append(k.b, s...)
}

func (k *keyWriter) strings(ss []string) {
	k.int(int64(len(ss)))
	for _, s := range ss {
		k.str(s)
	}
}

func (k *keyWriter) uintp(p *uint) {
	if p == nil {
		k.int(-1)
		return
	}
	k.int(0)
	k.int(int64(*p))
}
