package clusterlock

import (
	"slices"

	"github.com/gotp-dev/gotp/actor"
)

// core is one node's lock table: which holder holds each lock (and how many
// times, for nested acquisitions), and who waits for it, in arrival order.
// It does no I/O: each step returns the effects for the shell to carry out,
// in a deterministic order.
type core struct {
	locks map[string]*lockState
	// uses counts, per holder, the locks it holds or waits for; a holder is
	// monitored while its count is above zero.
	uses map[actor.PID]int
}

type lockState struct {
	holder actor.PID
	count  int
	queue  []waiter
}

type waiter struct {
	from   actor.From
	holder actor.PID
}

type effectKind uint8

const (
	effGrant     effectKind = iota + 1 // reply granted to from
	effRefuse                          // reply ErrWithdrawn to from (a waiter withdrawn or gone)
	effMonitor                         // start monitoring pid
	effDemonitor                       // stop monitoring pid
)

type effect struct {
	kind effectKind
	from actor.From
	pid  actor.PID
}

func newCore() *core {
	return &core{locks: map[string]*lockState{}, uses: map[actor.PID]int{}}
}

func (c *core) use(holder actor.PID, effs []effect) []effect {
	c.uses[holder]++
	if c.uses[holder] == 1 {
		effs = append(effs, effect{kind: effMonitor, pid: holder})
	}
	return effs
}

func (c *core) unuse(holder actor.PID, effs []effect) []effect {
	c.uses[holder]--
	if c.uses[holder] <= 0 {
		delete(c.uses, holder)
		effs = append(effs, effect{kind: effDemonitor, pid: holder})
	}
	return effs
}

// set asks for lock id on behalf of holder. It is granted at once if the
// lock is free or already the holder's (nested); otherwise the request waits.
func (c *core) set(from actor.From, id string, holder actor.PID) []effect {
	st := c.locks[id]
	if st == nil {
		c.locks[id] = &lockState{holder: holder, count: 1}
		effs := c.use(holder, nil)
		return append(effs, effect{kind: effGrant, from: from})
	}
	if st.holder == holder {
		st.count++
		return []effect{{kind: effGrant, from: from}}
	}
	st.queue = append(st.queue, waiter{from: from, holder: holder})
	return c.use(holder, nil)
}

// release gives back one acquisition of id by holder, or withdraws its
// waiting request. Releasing what one does not hold does nothing.
func (c *core) release(id string, holder actor.PID) []effect {
	st := c.locks[id]
	if st == nil {
		return nil
	}
	if st.holder == holder {
		st.count--
		if st.count > 0 {
			return nil
		}
		return c.handOver(id, st, c.unuse(holder, nil))
	}
	for i, w := range st.queue {
		if w.holder == holder {
			st.queue = slices.Delete(st.queue, i, i+1)
			effs := []effect{{kind: effRefuse, from: w.from}}
			return c.unuse(holder, effs)
		}
	}
	return nil
}

// handOver passes a lock whose holder let go to the first waiter, or frees it.
func (c *core) handOver(id string, st *lockState, effs []effect) []effect {
	if len(st.queue) == 0 {
		delete(c.locks, id)
		return effs
	}
	next := st.queue[0]
	st.queue = st.queue[1:]
	st.holder, st.count = next.holder, 1
	return append(effs, effect{kind: effGrant, from: next.from})
}

// down drops everything holder held or waited for: the holder died or its
// node was lost.
func (c *core) down(holder actor.PID) []effect {
	if c.uses[holder] == 0 {
		return nil
	}
	ids := make([]string, 0, len(c.locks))
	for id := range c.locks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var effs []effect
	for _, id := range ids {
		st := c.locks[id]
		kept := st.queue[:0]
		for _, w := range st.queue {
			if w.holder == holder {
				effs = append(effs, effect{kind: effRefuse, from: w.from})
				continue
			}
			kept = append(kept, w)
		}
		st.queue = kept
		if st.holder == holder {
			effs = c.handOver(id, st, effs)
		}
	}
	delete(c.uses, holder)
	return effs
}

// LockInfo describes one lock on one node.
type LockInfo struct {
	ID      string
	Holder  actor.PID
	Count   int         // nested acquisitions by Holder
	Waiting []actor.PID // holders waiting, in the order they asked
}

func (c *core) info() []LockInfo {
	out := make([]LockInfo, 0, len(c.locks))
	for id, st := range c.locks {
		li := LockInfo{ID: id, Holder: st.holder, Count: st.count}
		for _, w := range st.queue {
			li.Waiting = append(li.Waiting, w.holder)
		}
		out = append(out, li)
	}
	slices.SortFunc(out, func(a, b LockInfo) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}
