package metadata

import (
	"testing"
	"time"
)

func TestHLC(t *testing.T) {
	wall := time.Unix(100, 0)
	h := &hlc{node: "a", now: func() time.Time { return wall }}
	c1 := h.tick()
	c2 := h.tick()
	if c2.Compare(c1) <= 0 || c2.Logical != 1 {
		t.Fatalf("ticks at one instant: %+v then %+v", c1, c2)
	}
	// The physical clock goes back: timestamps still move forward.
	wall = time.Unix(50, 0)
	c3 := h.tick()
	if c3.Compare(c2) <= 0 {
		t.Fatalf("after the clock went back: %+v then %+v", c2, c3)
	}
	// A timestamp from a node whose clock is ahead: the next local one
	// is newer than it.
	remote := Clock{Wall: time.Unix(500, 0).UnixNano(), Logical: 7, Node: "z"}
	h.observe(remote)
	if c4 := h.tick(); c4.Compare(remote) <= 0 {
		t.Fatalf("after observing %+v: %+v", remote, c4)
	}
	// Ties between nodes are broken by name, the same way everywhere.
	x, y := Clock{Wall: 1, Node: "x"}, Clock{Wall: 1, Node: "y"}
	if x.Compare(y) != -1 || y.Compare(x) != 1 || x.Compare(x) != 0 {
		t.Fatal("tie break")
	}
	// The clock moves past the physical time too once it catches up.
	wall = time.Unix(1000, 0)
	if c := h.tick(); c.Wall != wall.UnixNano() || c.Logical != 0 {
		t.Fatalf("after the clock caught up: %+v", c)
	}
}
