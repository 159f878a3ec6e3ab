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
	w, err := openLogWriter(path, (*LogConfig)(nil).settings())
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
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprint("compress=", compress), func(t *testing.T) { testLogRotationAndTail(t, compress) })
	}
}

func testLogRotationAndTail(t *testing.T, compress bool) {
	path := filepath.Join(t.TempDir(), "c-json.log")
	w, err := openLogWriter(path, logSettings{maxSize: 1000, maxFiles: 3, compress: compress})
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
	ext := ""
	if compress {
		ext = ".gz"
	}
	for _, name := range []string{path, path + ".1" + ext, path + ".2" + ext} {
		st, err := os.Stat(name)
		if err != nil || st.Size() > 1000 {
			t.Errorf("%s: %v, size over the limit or missing", name, err)
		}
	}
	for _, name := range []string{path + ".3", path + ".3.gz", path + ".1" + strings.TrimSuffix(".gz", ext)} {
		if _, err := os.Stat(name); err == nil {
			t.Errorf("%s was kept", name)
		}
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

func TestLogSettings(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		c    *LogConfig
		want logSettings
	}{
		{nil, logSettings{maxSize: logMaxSize, maxFiles: logMaxFiles}},
		{&LogConfig{Driver: "json-file"}, logSettings{maxSize: -1, maxFiles: 1}},
		{&LogConfig{Driver: "json-file", MaxSize: 1000, MaxFiles: 4, Compress: &yes}, logSettings{maxSize: 1000, maxFiles: 4, compress: true}},
		{&LogConfig{Driver: "local"}, logSettings{maxSize: 20 << 20, maxFiles: 5, compress: true}},
		{&LogConfig{Driver: "local", MaxFiles: 2, Compress: &no}, logSettings{maxSize: 20 << 20, maxFiles: 2}},
		{&LogConfig{Driver: "local", MaxFiles: 1}, logSettings{maxSize: 20 << 20, maxFiles: 1}},
		{&LogConfig{Driver: "none"}, logSettings{discard: true}},
	}
	for _, tc := range tests {
		if got := tc.c.settings(); got != tc.want {
			t.Errorf("%+v: settings %+v, want %+v", tc.c, got, tc.want)
		}
	}
}
