package runtime

import (
	"bytes"
	"sync"
)

// maxHealthOutput is how much of a health check's output is kept, as
// Docker keeps it (maxOutputLen, 4 KiB).
const maxHealthOutput = 4096

// limitedBuffer keeps the first max bytes written to it and counts the
// rest as written, so a chatty health check never blocks or grows the
// shim's memory. It is safe for stdout and stderr at once.
type limitedBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - b.buf.Len()
	if len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.truncated = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

// String is what was kept, with "..." when more was written (Docker's form).
func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.truncated {
		return b.buf.String() + "..."
	}
	return b.buf.String()
}
