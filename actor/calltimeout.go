package actor

import "time"

// The default call timeout is kept by one timer per node rather than one per
// call, and without reading the clock per call: while calls under the
// default timeout wait, the node's sweeper ticks every
// callTimeout/sweepTicks, and a call records the tick it started in. A call
// that has waited more than sweepTicks ticks fails with ErrTimeout, so it
// ends between callTimeout and callTimeout plus one tick (5 s + 78 ms by
// default), never early. A call answered in time costs nothing more than
// storing its tick; a sweep costs a pass over the calls waiting; with no such
// call waiting the sweeper stops.
const sweepTicks = 64

// armDeadlineLocked starts w's default timeout. n.aliasMu is held.
func (n *Node) armDeadlineLocked(w *callWaiter) {
	w.timed, w.tick = true, n.sweepTick
	if n.sweepArmed {
		return
	}
	n.sweepArmed = true
	every := n.callTimeout / sweepTicks
	if n.sweeper == nil {
		n.sweeper = time.AfterFunc(every, n.sweepCalls)
		return
	}
	n.sweeper.Reset(every)
}

// sweepCalls is one tick: it fails the calls past the default timeout.
func (n *Node) sweepCalls() {
	var expired []*callWaiter
	waiting := false
	n.aliasMu.Lock()
	n.sweepTick++
	for id, w := range n.aliases {
		switch {
		case !w.timed:
		case n.sweepTick-w.tick > sweepTicks:
			delete(n.aliases, id)
			expired = append(expired, w)
		default:
			waiting = true
		}
	}
	if waiting {
		n.sweeper.Reset(n.callTimeout / sweepTicks)
	} else {
		n.sweepArmed = false
	}
	n.aliasMu.Unlock()
	for _, w := range expired {
		w.ch <- callResult{err: ErrTimeout, timedOut: true}
	}
}
