package peerservice

import (
	"maps"
	"slices"
	"time"
)

// Acknowledged forwarding. A sender numbers its forwards to each destination
// (per sender actor, so per incarnation of its manager) and sends each again
// every RetransmitInterval until it is acknowledged, at most MaxRetransmits
// times. The receiver keeps, per sender actor, the next number to deliver
// and what arrived ahead of it: it delivers in order, once, and holds back
// what overtook a message still missing (a retransmission that took another
// server). Every forward carries the sender's floor, the lowest number it
// has neither had acknowledged nor given up, so a receiver never waits for
// what will not come.

// outStream is what a sender keeps about one destination.
type outStream struct {
	last    uint64 // the last number given out
	low     uint64 // nothing below it is pending
	pending map[uint64]*pendingForward
}

type pendingForward struct {
	msg    forwardMsg
	sentAt time.Time
	tries  int
}

// floor returns the lowest number still pending, or the next to give out.
func (o *outStream) floor() uint64 {
	for o.low <= o.last && o.pending[o.low] == nil {
		o.low++
	}
	return o.low
}

// inStream is what a receiver keeps about one sender actor.
type inStream struct {
	next    uint64 // the next number to deliver
	held    map[uint64]forwardMsg
	heardAt time.Time
}

func (c *core) outTo(dest string) *outStream {
	o := c.out[dest]
	if o == nil {
		o = &outStream{low: 1, pending: map[uint64]*pendingForward{}}
		c.out[dest] = o
	}
	return o
}

func (c *core) pendingCount() int {
	n := 0
	for _, o := range c.out {
		n += len(o.pending)
	}
	return n
}

// dropPending gives up the acknowledged forwards to name. Its numbering
// carries on, so that a receiver that remembers this sender does not take
// later forwards for old ones.
func (c *core) dropPending(name string) {
	if o := c.out[name]; o != nil {
		clear(o.pending)
		o.low = o.last + 1
	}
}

// forward starts an acknowledged forward.
func (c *core) forward(dest string, m forwardMsg, now time.Time) effects {
	var eff effects
	o := c.outTo(dest)
	o.last++
	m.From, m.Actor, m.Seq = c.self.Name, c.actor, o.last
	o.pending[m.Seq] = &pendingForward{msg: m, sentAt: now}
	m.Floor = o.floor()
	eff.send(dest, m.list())
	return eff
}

// retransmitTick sends again every acknowledged forward still unacknowledged,
// and gives up those sent MaxRetransmits times again.
func (c *core) retransmitTick(now time.Time) effects {
	var eff effects
	for _, dest := range sortedKeys(c.out) {
		o := c.out[dest]
		gaveUp := false
		for _, seq := range sortedKeys(o.pending) {
			p := o.pending[seq]
			if now.Sub(p.sentAt) < c.cfg.RetransmitInterval {
				continue
			}
			if p.tries >= c.cfg.MaxRetransmits {
				delete(o.pending, seq)
				gaveUp = true
				continue
			}
			p.tries++
			p.sentAt = now
			p.msg.Floor = o.floor()
			eff.send(dest, p.msg.list())
		}
		if gaveUp {
			eff.send(dest, floorMsg{From: c.self.Name, Actor: c.actor, Floor: o.floor()})
		}
	}
	return eff
}

func (c *core) handleAck(m ackMsg) {
	if o := c.out[m.From]; o != nil && m.Actor == c.actor {
		delete(o.pending, m.Seq)
	}
}

func (c *core) handleForward(m forwardMsg, now time.Time) effects {
	var eff effects
	in := c.in[m.Actor]
	if in == nil {
		// A sender not heard from (or forgotten): nothing it has not had
		// acknowledged lies below its floor.
		in = &inStream{next: m.Floor, held: map[uint64]forwardMsg{}}
		c.in[m.Actor] = in
	}
	in.heardAt = now
	if _, ok := in.held[m.Seq]; !ok && m.Seq >= in.next {
		in.held[m.Seq] = m
	}
	in.raise(m.Floor, &eff)
	eff.send(m.From, ackMsg{From: c.self.Name, Actor: m.Actor, Seq: m.Seq})
	return eff
}

func (c *core) handleFloor(m floorMsg) effects {
	var eff effects
	if in := c.in[m.Actor]; in != nil {
		in.raise(m.Floor, &eff)
	}
	return eff
}

// raise stops waiting for anything below floor, and delivers in order what
// is due.
func (in *inStream) raise(floor uint64, eff *effects) {
	if floor > in.next {
		var below []uint64
		for seq := range in.held {
			if seq < floor {
				below = append(below, seq)
			}
		}
		slices.Sort(below)
		for _, seq := range below {
			eff.deliver = append(eff.deliver, in.held[seq])
			delete(in.held, seq)
		}
		in.next = floor
	}
	for {
		m, ok := in.held[in.next]
		if !ok {
			return
		}
		eff.deliver = append(eff.deliver, m)
		delete(in.held, in.next)
		in.next++
	}
}

// forgetQuietSenders forgets senders not heard from for longer than any
// sender goes on retransmitting (MaxRetransmits intervals, and two more for
// messages still on their way), so that a duplicate never finds a receiver
// that forgot it delivered the original. What such a sender left held back
// behind a gap is delivered first, in order: the gap will not be filled.
func (c *core) forgetQuietSenders(now time.Time, eff *effects) {
	horizon := time.Duration(c.cfg.MaxRetransmits+2) * c.cfg.RetransmitInterval
	for _, actor := range sortedKeys(c.in) {
		in := c.in[actor]
		if now.Sub(in.heardAt) <= horizon {
			continue
		}
		if len(in.held) > 0 {
			in.raise(slices.Max(slices.Collect(maps.Keys(in.held)))+1, eff)
		}
		delete(c.in, actor)
	}
}
