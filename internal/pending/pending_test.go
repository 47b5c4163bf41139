package pending

import (
	"testing"

	"github.com/gotp-dev/gotp/actor"
)

func from(id uint64) actor.From { return actor.From{PID: actor.PID{Node: "n", ID: id}} }

func TestCallers(t *testing.T) {
	var c Callers
	c.Limit = 3
	for seq := uint64(1); seq <= 5; seq++ {
		c.Add(seq, from(seq))
	}
	// The two oldest are forgotten.
	for seq, want := range map[uint64]bool{1: false, 2: false, 3: true, 4: true, 5: true} {
		got, ok := c.Take(seq)
		if ok != want || (ok && got != from(seq)) {
			t.Errorf("Take(%d) = %v, %v; want present %v", seq, got, ok, want)
		}
	}
	if _, ok := c.Take(3); ok || c.Len() != 0 {
		t.Fatalf("a taken caller is still there (len %d)", c.Len())
	}
}

// Callers taken as fast as they come keep the order bounded.
func TestCallersOrderStaysBounded(t *testing.T) {
	var c Callers
	for seq := range uint64(10_000) {
		c.Add(seq, from(seq))
		c.Take(seq)
	}
	if len(c.order) > 2*c.Len()+65 {
		t.Fatalf("order holds %d entries for %d callers", len(c.order), c.Len())
	}
}
