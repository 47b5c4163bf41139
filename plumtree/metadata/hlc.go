package metadata

import (
	"cmp"
	"sync"
	"time"
)

// Clock is a hybrid logical clock timestamp: physical time in nanoseconds,
// a logical counter that orders events within one nanosecond (or while the
// physical clock lags a timestamp seen from another node), and the node
// that made it, which breaks ties so that every node orders any two
// timestamps the same way.
type Clock struct {
	Wall    int64
	Logical uint32
	Node    string
}

// Compare orders clocks: -1 if c is older than d, 0 if equal, +1 if newer.
func (c Clock) Compare(d Clock) int {
	if r := cmp.Compare(c.Wall, d.Wall); r != 0 {
		return r
	}
	if r := cmp.Compare(c.Logical, d.Logical); r != 0 {
		return r
	}
	return cmp.Compare(c.Node, d.Node)
}

// hlc makes timestamps that never go backwards and that follow every
// timestamp observed from other nodes.
type hlc struct {
	mu   sync.Mutex
	node string
	now  func() time.Time
	last Clock
}

// tick returns a timestamp for a local write.
func (h *hlc) tick() Clock {
	h.mu.Lock()
	defer h.mu.Unlock()
	pt := h.now().UnixNano()
	if pt > h.last.Wall {
		h.last = Clock{Wall: pt, Node: h.node}
	} else {
		h.last = Clock{Wall: h.last.Wall, Logical: h.last.Logical + 1, Node: h.node}
	}
	return h.last
}

// observe moves the clock past a timestamp from another node, so that the
// next local write is newer than everything this node has seen.
func (h *hlc) observe(m Clock) {
	h.mu.Lock()
	defer h.mu.Unlock()
	pt := h.now().UnixNano()
	l := max(h.last.Wall, m.Wall, pt)
	var c uint32
	switch {
	case l == h.last.Wall && l == m.Wall:
		c = max(h.last.Logical, m.Logical) + 1
	case l == h.last.Wall:
		c = h.last.Logical + 1
	case l == m.Wall:
		c = m.Logical + 1
	}
	h.last = Clock{Wall: l, Logical: c, Node: h.node}
}
