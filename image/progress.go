package image

import (
	"io"
	"sync"
	"time"
)

// Progress reports one layer's state during Pull, Load or Push.
type Progress struct {
	Ref    string
	Source string // registry host serving the pull or receiving the push (a mirror's when a mirror serves); "" for Load
	Layer  string // layer digest
	Total  int64  // compressed size
	Done   int64  // bytes transferred so far
	State  string // one of the State* constants
}

// Layer states reported through Progress.
const (
	StateWaiting     = "waiting"     // queued behind other layers
	StateDownloading = "downloading" // Done of Total bytes received
	StateVerifying   = "verifying"   // all bytes in, digest being checked and synced
	StateExtracting  = "extracting"  // being unpacked into its snapshot
	StateExists      = "exists"      // already in the store, nothing to transfer
	StatePushing     = "pushing"     // Done of Total bytes sent
	StateDone        = "done"        // complete
)

// progressInterval is the least time between two byte-count reports of one
// layer.
const progressInterval = 100 * time.Millisecond

// progressReporter serialises calls to fn and fills in the reference and
// the source.
func progressReporter(ref, source string, fn func(Progress)) func(Progress) {
	if fn == nil {
		return func(Progress) {}
	}
	var mu sync.Mutex
	return func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		p.Ref, p.Source = ref, source
		fn(p)
	}
}

// countingReader counts bytes read and reports the count at most every
// progressInterval.
type countingReader struct {
	r      io.Reader
	n      int64
	last   time.Time
	report func(int64)
	eof    func(int64) // called once at the end of the stream; may be nil
}

func newCountingReader(r io.Reader, report func(int64)) *countingReader {
	report(0)
	return &countingReader{r: r, last: time.Now(), report: report}
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if now := time.Now(); now.Sub(c.last) >= progressInterval {
		c.last = now
		c.report(c.n)
	}
	if err == io.EOF && c.eof != nil {
		c.eof(c.n)
		c.eof = nil
	}
	return n, err
}
