package runtime

// shimStack is the stack a shim's start needs (libcontainer's start and
// the JSON encoding of its configuration, deepest, reach 32 kB; its
// init, 16 kB). A goroutine's stack starts at a few kB and doubles each
// time a call would overflow it, each time copying it: walking every
// frame, through the binary's tables, which the fresh process faults in.
// growStack takes the stack there in one copy while it holds few frames
// (issue 15).
const shimStack = 32 << 10

// growStack grows the calling goroutine's stack to shimStack at once: its
// frame takes most of that, so the stack check at its entry grows the
// stack to fit it, and the room stays for the calls that come after.
// i only keeps the frame from being optimised away.
//
//go:noinline
func growStack(i int) byte {
	var frame [shimStack * 3 / 4]byte
	return frame[i%len(frame)]
}
