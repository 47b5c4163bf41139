package remote

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// Relaying. A node that relays for others (a server of the peer service)
// hands on what arrives on a connection for another node. One slow
// destination must not stall the rest of that connection (other
// destinations, this node's own traffic, heartbeats), so each source
// connection keeps a queue per destination it could not hand on at once, with
// a goroutine that drains it. Past SendQueueBytes queued for a destination
// the relay tells the source to hold back its messages and requests for it (a
// Flow frame); they fail at the source with ErrSendQueueFull, as a full send
// queue of its own would, until the relay says there is room again. Signals
// still go, and nothing the relay took is dropped: a source that ignores the
// word and queues twice the bound waits, its connection's reader stopped.

// relayQueue is what waits, from one source connection, for one destination.
type relayQueue struct {
	items []relayed
	bytes int
	busy  bool          // the source was told to hold back
	room  chan struct{} // closed (and replaced) when the queue shrinks
}

type relayed struct {
	env  actor.Envelope
	size int
}

// relay hands env, which arrived on c as size bytes, on to its node.
func (c *conn) relay(env actor.Envelope, size int) {
	r := c.r
	dest := env.DestNode()
	var q *relayQueue
	if c.relayQueues.Load() > 0 {
		c.relayMu.Lock()
		q = c.relays[dest]
		c.relayMu.Unlock()
	}
	if q == nil {
		// Nothing waits for dest from this source: straight on, unless its
		// connection's queue is full.
		err := r.forward(r.ctx, env, SendOptions{relaying: true})
		if err == nil {
			return
		}
		if !errors.Is(err, ErrSendQueueFull) && !errors.Is(err, errSignalQueueFull) {
			r.log.Debug("relay failed", "dest", dest, "err", err.Error())
			r.answerUndeliverable(env, err)
			return
		}
	}
	limit := r.cfg.SendQueueBytes
	c.relayMu.Lock()
	if q = c.relays[dest]; q == nil {
		if c.relays == nil {
			c.relays = make(map[string]*relayQueue)
		}
		q = &relayQueue{room: make(chan struct{})}
		c.relays[dest] = q
		c.relayQueues.Add(1)
		r.wg.Add(1)
		go c.drain(dest, q)
	}
	q.items = append(q.items, relayed{env: env, size: size})
	q.bytes += size
	if !q.busy && q.bytes > limit {
		q.busy = true
		c.sendFlowLocked(dest, true)
	}
	for q.bytes > 2*limit {
		// The source did not hold back: stop reading from it until there
		// is room.
		room := q.room
		c.relayMu.Unlock()
		select {
		case <-room:
		case <-c.done:
			return
		case <-r.ctx.Done():
			return
		}
		c.relayMu.Lock()
	}
	c.relayMu.Unlock()
}

// drain hands q's envelopes on, in order, waiting for room at each
// destination connection, until q is empty.
func (c *conn) drain(dest string, q *relayQueue) {
	r := c.r
	defer r.wg.Done()
	limit := r.cfg.SendQueueBytes
	for {
		c.relayMu.Lock()
		if len(q.items) == 0 {
			delete(c.relays, dest)
			c.relayQueues.Add(-1)
			if q.busy {
				c.sendFlowLocked(dest, false)
			}
			c.relayMu.Unlock()
			return
		}
		it := q.items[0]
		c.relayMu.Unlock()
		err := r.forward(r.ctx, it.env, SendOptions{Block: true})
		c.relayMu.Lock()
		q.items[0] = relayed{}
		q.items = q.items[1:]
		q.bytes -= it.size
		close(q.room)
		q.room = make(chan struct{})
		if q.busy && q.bytes <= limit/2 {
			q.busy = false
			c.sendFlowLocked(dest, false)
		}
		c.relayMu.Unlock()
		if err != nil {
			r.log.Debug("relay failed", "dest", dest, "err", err.Error())
			r.answerUndeliverable(it.env, err)
		}
	}
}

// sendFlowLocked tells the source on the other end of c whether to hold
// back its traffic for dest. It goes as a signal: a source that never heard
// it would hold back for good. c.relayMu is held, so that the words reach the
// source in the order they were decided.
func (c *conn) sendFlowLocked(dest string, busy bool) {
	frame, err := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Flow{Flow: &wirepb.Flow{Dest: dest, Busy: busy}}})
	if err != nil {
		return
	}
	if err := c.enqueue(context.Background(), frame, streamKey{}, false, true); errors.Is(err, errSignalQueueFull) {
		c.fail(err)
	}
}

// maxHeld bounds the destinations one relay may ask this node to hold back.
const maxHeld = 4096

// holds is what a peer that relays for this node asked it to hold back: a
// channel per destination, closed when the relay has room again.
type holds struct {
	n  atomic.Int32 // len(by), read without the lock on every relayed send
	by map[string]chan struct{}
}

// setHeld records a relay's Flow word for dest.
func (p *peer) setHeld(dest string, busy bool) {
	p.flowMu.Lock()
	defer p.flowMu.Unlock()
	ch := p.held.by[dest]
	switch {
	case busy && ch == nil:
		if len(p.held.by) >= maxHeld {
			return // a relay names no more destinations than this
		}
		if p.held.by == nil {
			p.held.by = make(map[string]chan struct{})
		}
		p.held.by[dest] = make(chan struct{})
	case !busy && ch != nil:
		close(ch)
		delete(p.held.by, dest)
	default:
		return
	}
	p.held.n.Store(int32(len(p.held.by)))
}

// holdBack returns nil if the relay p takes traffic for dest now. If it asked
// for it to be held back, it is ErrSendQueueFull, or with block a wait until
// the relay has room, ctx ends, or the connection c to the relay fails.
func (p *peer) holdBack(ctx context.Context, c *conn, dest string, block bool) error {
	if p.held.n.Load() == 0 {
		return nil
	}
	p.flowMu.Lock()
	ch := p.held.by[dest]
	p.flowMu.Unlock()
	if ch == nil {
		return nil
	}
	full := fmt.Errorf("remote: relay %s holds back traffic for %s: %w", p.name, dest, ErrSendQueueFull)
	if !block {
		return full
	}
	select {
	case <-ch:
		return nil
	case <-c.done:
		return fmt.Errorf("%w: %s", actor.ErrNoConnection, p.name)
	case <-ctx.Done():
		return errors.Join(full, ctx.Err())
	}
}
