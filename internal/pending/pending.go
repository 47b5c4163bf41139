// Package pending keeps the callers waiting for their proposals to commit,
// by proposal sequence number, for the Raft-based components (rafted,
// ensemble). It is bounded: past Limit the oldest are forgotten (a proposal
// lost in a leader change is never answered, and its caller times out on its
// own), so a leader that loses proposals does not leak.
package pending

import "github.com/gotp-dev/gotp/actor"

// Callers maps a proposal's sequence number to who waits for it. The zero
// value is empty and ready; set Limit before the first Add.
type Callers struct {
	// Limit is the most callers kept; 0 means no limit.
	Limit int

	byID  map[uint64]actor.From
	order []uint64 // insertion order, with entries already taken in it
}

// Add records from as waiting for seq, forgetting the oldest past Limit.
func (c *Callers) Add(seq uint64, from actor.From) {
	if c.byID == nil {
		c.byID = make(map[uint64]actor.From)
	}
	c.byID[seq] = from
	c.order = append(c.order, seq)
	for c.Limit > 0 && len(c.order) > c.Limit {
		delete(c.byID, c.order[0])
		c.order = c.order[1:]
	}
	// Sequence numbers taken meanwhile stay in order; drop them once they
	// outnumber the live ones, so order stays proportional to byID.
	if len(c.order) > 2*len(c.byID)+64 {
		kept := c.order[:0]
		for _, s := range c.order {
			if _, ok := c.byID[s]; ok {
				kept = append(kept, s)
			}
		}
		c.order = kept
	}
}

// Take returns and forgets the caller waiting for seq.
func (c *Callers) Take(seq uint64) (actor.From, bool) {
	from, ok := c.byID[seq]
	if ok {
		delete(c.byID, seq)
	}
	return from, ok
}

// Len returns how many callers wait.
func (c *Callers) Len() int { return len(c.byID) }
