package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// rawHeader builds a 512-byte GNU-magic tar header by hand, for entry
// kinds archive/tar refuses to write; set fills in extra fields.
func rawHeader(name string, typeflag byte, size int64, set func(hdr []byte)) []byte {
	hdr := make([]byte, 512)
	copy(hdr[0:], name)
	numeric(hdr[100:108], 0o644)
	numeric(hdr[108:116], 0)
	numeric(hdr[116:124], 0)
	numeric(hdr[124:136], size)
	numeric(hdr[136:148], 1700000000)
	hdr[156] = typeflag
	copy(hdr[257:], "ustar  \x00")
	if set != nil {
		set(hdr)
	}
	copy(hdr[148:156], "        ")
	var sum int64
	for _, c := range hdr {
		sum += int64(c)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return hdr
}

// numeric writes a tar number field: octal, or GNU base-256 when too big.
func numeric(b []byte, v int64) {
	if s := strconv.FormatInt(v, 8); len(s) < len(b) {
		copy(b, fmt.Sprintf("%0*s", len(b)-1, s))
		return
	}
	for i := len(b) - 1; i > 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	b[0] = 0x80
}

// padded appends data padded to a 512-byte block.
func padded(out, data []byte) []byte {
	out = append(out, data...)
	return append(out, make([]byte, (512-len(data)%512)%512)...)
}

// gnuSparseTar is a tar of one old-GNU-format sparse file ('S') of
// apparent size realSize holding 512 real bytes at its end.
func gnuSparseTar(realSize int64) []byte {
	out := rawHeader("huge", 'S', 512, func(hdr []byte) {
		numeric(hdr[386:398], realSize-512) // first sparse entry: offset
		numeric(hdr[398:410], 512)          // and length
		numeric(hdr[483:495], realSize)     // real size
	})
	out = padded(out, bytes.Repeat([]byte("x"), 512))
	return append(out, make([]byte, 1024)...)
}

// paxSparseTar is the same file in the PAX 1.0 sparse format: PAX records
// name it, and its data starts with the sparse map.
func paxSparseTar(realSize int64) []byte {
	var records []byte
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.name", "huge"}, {"GNU.sparse.realsize", strconv.FormatInt(realSize, 10)}} {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + 2
		for len(strconv.Itoa(n))+len(rec) != n {
			n++
		}
		records = append(records, strconv.Itoa(n)+rec...)
	}
	out := padded(rawHeader("PaxHeaders/huge", 'x', int64(len(records)), nil), records)
	body := padded(nil, []byte(fmt.Sprintf("1\n%d\n512\n", realSize-512)))
	body = append(body, bytes.Repeat([]byte("y"), 512)...)
	out = padded(append(out, rawHeader("GNUSparseFile.0/huge", '0', int64(len(body)), nil)...), body)
	return append(out, make([]byte, 1024)...)
}

// A sparse file is refused quickly, whatever size it claims; nothing is
// written.
func TestUnpackRefusesSparseFiles(t *testing.T) {
	const tib = int64(1) << 40
	layer := gnuSparseTar(tib)
	hdr, err := tar.NewReader(bytes.NewReader(layer)).Next()
	if err != nil || hdr.Size != tib {
		t.Fatalf("the hand-made sparse tar reads as %+v, %v; want a %d-byte file", hdr, err, tib)
	}
	cases := map[string][]byte{"gnu": layer, "pax": paxSparseTar(tib)}
	if hdr, err := tar.NewReader(bytes.NewReader(cases["pax"])).Next(); err != nil || hdr.Size != tib || hdr.Name != "huge" {
		t.Fatalf("the hand-made PAX sparse tar reads as %+v, %v", hdr, err)
	}
	for name, layer := range cases {
		t.Run(name, func(t *testing.T) {
			f := newUnpackFixture(t)
			_, err := f.unpack(layer)
			if !errors.Is(err, ErrUnsafeLayer) {
				t.Fatalf("unpack of a %d-byte sparse file: %v, want ErrUnsafeLayer", tib, err)
			}
			assertEmptyDir(t, f.store.path("snapshots"))
			assertEmptyDir(t, f.store.path("tmp"))
		})
	}
}

// Device nodes are made only by root, and only character and block
// devices; set-id bits are exactly what the tar says.
func TestUnpackDevicesAndSetIDBits(t *testing.T) {
	f := newUnpackFixture(t)
	mode := func(e tarEntry, m int64) tarEntry { e.Mode = m; return e }
	layer := mkTar(t,
		tarEntry{Header: tar.Header{Typeflag: tar.TypeChar, Name: "tty", Mode: 0o620, Devmajor: 5, Devminor: 0}},
		tarEntry{Header: tar.Header{Typeflag: tar.TypeBlock, Name: "sda", Mode: 0o660, Devmajor: 8, Devminor: 0}},
		mode(file("suid", "a"), 0o4755),
		mode(file("sgid", "b"), 0o2755),
		mode(dir("sgid-dir/"), 0o2775),
		mode(file("was-suid", "c"), 0o4755),
		mode(file("was-suid", "replaced"), 0o755),
		mode(file("plain", "d"), 0o755),
	)
	snap, err := f.unpack(layer)
	if err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	for name, want := range map[string]uint32{"tty": unix.S_IFCHR | 0o620, "sda": unix.S_IFBLK | 0o660} {
		var st unix.Stat_t
		err := unix.Lstat(filepath.Join(snap, name), &st)
		switch {
		case root && (err != nil || st.Mode != want):
			t.Errorf("%s: mode %o, %v; want %o", name, st.Mode, err, want)
		case !root && !errors.Is(err, unix.ENOENT):
			t.Errorf("%s made without root: %v", name, err)
		}
	}
	for name, want := range map[string]os.FileMode{
		"suid": os.ModeSetuid | 0o755, "sgid": os.ModeSetgid | 0o755, "sgid-dir": os.ModeDir | os.ModeSetgid | 0o775,
		"was-suid": 0o755, "plain": 0o755,
	} {
		fi, err := os.Lstat(filepath.Join(snap, name))
		if err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode(), err, want)
		}
	}
}
