package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func readAll(t *testing.T, path string, o LogOptions) []string {
	t.Helper()
	var got []string
	if err := ReadLogs(context.Background(), path, o, func(l LogLine) error {
		got = append(got, l.Stream+":"+l.Text)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLogWriterFormatAndPartialLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := openLogWriter(path, logMaxSize, logMaxFiles)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", logMaxLine+10)
	if err := w.copyFrom("stdout", strings.NewReader("hello\n"+long+"\nno newline"), nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(string(data), "\n", 2)[0]
	if !strings.HasPrefix(first, `{"log":"hello\n","stream":"stdout","time":"`) {
		t.Errorf("first entry %s is not Docker's json-file format", first)
	}
	got := readAll(t, path, LogOptions{Tail: -1})
	want := []string{"stdout:hello\n", "stdout:" + long[:logMaxLine], "stdout:" + long[logMaxLine:] + "\n", "stdout:no newline"}
	if !slices.Equal(got, want) {
		t.Errorf("entries = %.80q, want %.80q", got, want)
	}
}

func TestLogRotationAndTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := openLogWriter(path, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for i := range 100 {
		line := fmt.Sprintf("line %03d\n", i)
		all = append(all, "stdout:"+line)
		if err := w.write("stdout", []byte(line), time.Unix(int64(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for _, name := range []string{path, path + ".1", path + ".2"} {
		st, err := os.Stat(name)
		if err != nil || st.Size() > 1000 {
			t.Errorf("%s: %v, size over the limit or missing", name, err)
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Error("a fourth file was kept")
	}
	got := readAll(t, path, LogOptions{Tail: -1})
	if len(got) == 0 || len(got) >= 100 || !slices.Equal(got, all[len(all)-len(got):]) {
		t.Errorf("after rotation the log holds %d lines, want the newest ones in order", len(got))
	}
	if got := readAll(t, path, LogOptions{Tail: 3}); !slices.Equal(got, all[97:]) {
		t.Errorf("tail 3 = %q", got)
	}
	if got := readAll(t, path, LogOptions{Tail: 0}); len(got) != 0 {
		t.Errorf("tail 0 = %q", got)
	}
	if got := readAll(t, path, LogOptions{Tail: -1, Since: time.Unix(98, 0)}); !slices.Equal(got, all[98:]) {
		t.Errorf("since 98 = %q", got)
	}
	if got := readAll(t, path, LogOptions{Tail: -1, Since: time.Unix(96, 0), Until: time.Unix(97, 0)}); !slices.Equal(got, all[96:98]) {
		t.Errorf("since 96 until 97 = %q", got)
	}
	if got := readAll(t, path, LogOptions{Tail: 1, Until: time.Unix(97, 0)}); !slices.Equal(got, all[97:98]) {
		t.Errorf("tail 1 until 97 = %q", got)
	}
}

func TestReadLogsMissing(t *testing.T) {
	if got := readAll(t, filepath.Join(t.TempDir(), "none.log"), LogOptions{Tail: -1}); len(got) != 0 {
		t.Errorf("missing log gave %q", got)
	}
}
