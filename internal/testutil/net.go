package testutil

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FreePort returns a TCP port nothing listens on right now on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// HTTPGet fetches url, retrying for up to 30 s while a stack comes up, and
// returns the body (trimmed) of the first 200 answer; it fails t otherwise.
func HTTPGet(t testing.TB, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 3 * time.Second}
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			last = err
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return strings.TrimSpace(string(b))
		}
		last = &statusError{resp.Status, string(b)}
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

type statusError struct{ status, body string }

func (e *statusError) Error() string { return e.status + ": " + e.body }
