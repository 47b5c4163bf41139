// Package halfopen bounds the connections a listener holds in their
// handshake. A connection that never finishes its handshake costs a slot
// until its deadline; when every slot is taken, the oldest is closed to make
// room instead of refusing or delaying the newcomer, so a flood of idle
// sockets cannot lock legitimate peers out and costs at most Max connections'
// worth of memory. The transport's TLS listener and the distribution layer's
// handshake both use it.
package halfopen

import (
	"io"
	"sync"
)

// Set is the connections in their handshake. The zero value is not usable;
// make one with New.
type Set struct {
	mu    sync.Mutex
	max   int
	next  uint64
	open  map[uint64]io.Closer
	order []uint64 // ids in arrival order; finished ones are skipped lazily
}

// New returns a set of at most limit connections (at least 1).
func New(limit int) *Set {
	return &Set{max: max(limit, 1), open: make(map[uint64]io.Closer)}
}

// Add records c as in its handshake and returns the id to pass to Done. If
// the set was full, the oldest connection in it is closed first.
func (s *Set) Add(c io.Closer) uint64 {
	s.mu.Lock()
	var evict io.Closer
	if len(s.open) >= s.max {
		for len(s.order) > 0 {
			oldest := s.order[0]
			s.order = s.order[1:]
			if v, ok := s.open[oldest]; ok {
				delete(s.open, oldest)
				evict = v
				break
			}
		}
	}
	s.next++
	id := s.next
	s.open[id] = c
	s.order = append(s.order, id)
	if len(s.order) > 2*s.max+16 {
		s.compactLocked()
	}
	s.mu.Unlock()
	if evict != nil {
		_ = evict.Close()
	}
	return id
}

// Done records that the connection id left its handshake (finished or
// failed); it is no longer the set's to close.
func (s *Set) Done(id uint64) {
	s.mu.Lock()
	delete(s.open, id)
	s.mu.Unlock()
}

// Len returns how many connections are in their handshake.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

func (s *Set) compactLocked() {
	kept := s.order[:0]
	for _, id := range s.order {
		if _, ok := s.open[id]; ok {
			kept = append(kept, id)
		}
	}
	s.order = kept
}
