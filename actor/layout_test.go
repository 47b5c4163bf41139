package actor

import (
	"testing"
	"unsafe"
)

// A process stays within the 256-byte allocation class, and the flag read per
// message does not share a cache line with the mailbox fields every sender
// writes.
func TestProcessLayout(t *testing.T) {
	var p Process
	if size := unsafe.Sizeof(p); size > 256 {
		t.Errorf("Process is %d bytes, over the 256-byte class", size)
	}
	line := func(off uintptr) uintptr { return off / 64 }
	if line(unsafe.Offsetof(p.doomed)) == line(unsafe.Offsetof(p.mu)) ||
		line(unsafe.Offsetof(p.doomed)) == line(unsafe.Offsetof(p.queue)) ||
		line(unsafe.Offsetof(p.doomed)) == line(unsafe.Offsetof(p.pending)) {
		t.Errorf("doomed (offset %d) shares a cache line with the mailbox (mu %d, queue %d, pending %d)",
			unsafe.Offsetof(p.doomed), unsafe.Offsetof(p.mu), unsafe.Offsetof(p.queue), unsafe.Offsetof(p.pending))
	}
}
