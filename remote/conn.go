package remote

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
)

// conn is one slot (channel, index) of a peer: a bounded queue of encoded
// frames and, once the transport connection is up, a writer that drains it in
// batches (one WriteFrames call per batch, so many small messages share a
// syscall) and a reader that delivers what arrives.
type conn struct {
	r       *Remote
	peer    *peer
	channel Channel
	index   int
	inbound bool
	// est is set (under r.mu) once the handshake is done and recorded: the
	// peer may be sending on the connection from then on.
	est bool

	ready chan struct{} // closed once the handshake is done
	done  chan struct{} // closed when the connection is finished

	mu      sync.Mutex
	tc      transport.Conn
	queue   []queued
	bytes   int
	streams map[streamKey]int // monotonic channels: stream -> index in queue
	notify  chan struct{}     // the writer's wake-up, signalled on empty -> non-empty
	space   chan struct{}     // closed (and replaced) when the writer frees room
	err     error             // why the connection ended
	// movedTo is the connection that took this one's place and queue; what
	// is sent here from then on goes there (see handOver).
	movedTo *conn

	// What arrived here for other nodes and waits for room (relay.go).
	relayMu sync.Mutex
	relays  map[string]*relayQueue
	// relayQueues is len(relays), read without the lock on every relayed
	// envelope: only the reader adds a queue, so none means none.
	relayQueues atomic.Int32

	// The net tick (tick.go): heard and spoke say whether a frame was read
	// or written since the last tick; silent counts the ticks in a row that
	// heard nothing (only the tick touches it).
	heard, spoke atomic.Bool
	silent       int
	ticker       *time.Timer

	// Traffic counts for ConnStats: added once per written batch by the
	// writer, once per frame by the reader.
	framesOut, bytesOut, framesIn, bytesIn atomic.Uint64
	// rtt is the handshake's round trip (under mu).
	rtt time.Duration
	// The round-trip probe (tick.go), under mu: the seq of the probe out
	// (0: none) and when it was queued, the last seq used, and the latest
	// measured round trip.
	probeSeq, probeNext uint64
	probeSent           time.Time
	probeRTT            time.Duration
}

type queued struct {
	frame []byte
	key   streamKey
	// buf, when set, is the pooled buffer frame was encoded into; the
	// writer gives it back once the frame is written.
	buf *[]byte
}

// frameBufs recycles the buffers envelopes are encoded into: a frame is done
// with once the transport has written it (Conn.WriteFrames lets the caller
// reuse the frames when it returns), so a stream of sends allocates none.
var frameBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// maxPooledFrame: a buffer grown past this by a large message is left to the
// collector rather than kept for small ones.
const maxPooledFrame = 64 << 10

func getFrameBuf() *[]byte { return frameBufs.Get().(*[]byte) }

func putFrameBuf(buf *[]byte, frame []byte) {
	if cap(frame) <= maxPooledFrame {
		*buf = frame[:0]
		frameBufs.Put(buf)
	}
}

// streamKey names a sender-receiver stream for monotonic channels.
type streamKey struct {
	from, to string
}

func newConn(r *Remote, p *peer, ch Channel, index int) *conn {
	return &conn{
		r: r, peer: p, channel: ch, index: index,
		ready:  make(chan struct{}),
		done:   make(chan struct{}),
		notify: make(chan struct{}, 1),
		space:  make(chan struct{}),
	}
}

// enqueue adds a frame. With wait set it blocks for room until ctx ends;
// otherwise a full queue is ErrSendQueueFull. An empty queue takes any frame,
// so one large message cannot be refused forever. A signal (a DOWN, an exit,
// a reply: what must never be dropped) may also use a reserve beyond the
// bound (Config.SignalReserveBytes); past that it is errSignalQueueFull, and the caller
// gives the connection up rather than lose it.
func (c *conn) enqueue(ctx context.Context, frame []byte, key streamKey, wait, signal bool) error {
	return c.enqueueQueued(ctx, queued{frame: frame, key: key}, wait, signal)
}

// enqueueQueued is enqueue of a frame that may live in a pooled buffer.
func (c *conn) enqueueQueued(ctx context.Context, q queued, wait, signal bool) error {
	frame, key := q.frame, q.key
	for {
		c.mu.Lock()
		if next := c.movedTo; next != nil {
			c.mu.Unlock()
			c = next
			continue
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return err
		}
		if c.channel.Monotonic && key != (streamKey{}) {
			if i, ok := c.streams[key]; ok {
				// Only the newest message of the stream is worth sending.
				c.bytes += len(frame) - len(c.queue[i].frame)
				c.queue[i].frame, c.queue[i].buf = frame, q.buf
				c.mu.Unlock()
				return nil
			}
		}
		limit := c.r.cfg.SendQueueBytes
		if signal {
			limit += c.r.cfg.SignalReserveBytes
		}
		if c.bytes == 0 || c.bytes+len(frame) <= limit {
			if c.channel.Monotonic && key != (streamKey{}) {
				if c.streams == nil {
					c.streams = make(map[streamKey]int)
				}
				c.streams[key] = len(c.queue)
			}
			c.queue = append(c.queue, q)
			c.bytes += len(frame)
			wake := len(c.queue) == 1
			c.mu.Unlock()
			if wake {
				select {
				case c.notify <- struct{}{}:
				default:
				}
			}
			return nil
		}
		space := c.space
		c.mu.Unlock()
		if !wait {
			if signal {
				return errSignalQueueFull
			}
			return ErrSendQueueFull
		}
		select {
		case <-space:
		case <-c.done:
		case <-ctx.Done():
			return errors.Join(ErrSendQueueFull, ctx.Err())
		}
	}
}

// minSignalReserve is the least default room signals have beyond a full
// queue.
const minSignalReserve = 4 << 20

var errSignalQueueFull = errors.New("remote: send queue full even for signals")

// handOver moves c's queue to the connection to and points every later send
// there, so that what c's senders queued keeps its order. It reports false if
// c has already failed. r.mu is held.
func (c *conn) handOver(to *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false
	}
	c.moveLocked(to)
	return true
}

// moveLocked is handOver with c.mu held.
func (c *conn) moveLocked(to *conn) {
	to.mu.Lock()
	to.queue = append(to.queue, c.queue...)
	to.bytes += c.bytes
	if to.channel.Monotonic {
		if to.streams == nil {
			to.streams = make(map[streamKey]int)
		}
		clear(to.streams)
		for i, q := range to.queue {
			if q.key != (streamKey{}) {
				to.streams[q.key] = i
			}
		}
	}
	wake := len(to.queue) > 0
	to.mu.Unlock()
	if wake {
		select {
		case to.notify <- struct{}{}:
		default:
		}
	}
	c.queue, c.streams, c.bytes = nil, nil, 0
	c.movedTo = to
	// Senders waiting for room here retry, and find the new place.
	close(c.space)
	c.space = make(chan struct{})
}

// waitUp waits until the connection (or the one that took its place) is up.
func (c *conn) waitUp(ctx context.Context) error {
	for {
		select {
		case <-c.ready:
			return nil
		case <-c.done:
			c.mu.Lock()
			next, err := c.movedTo, c.err
			c.mu.Unlock()
			if next == nil {
				return err
			}
			c = next
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *conn) isReady() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// start runs the writer and reader over an established transport connection.
func (c *conn) start(tc transport.Conn) {
	c.mu.Lock()
	c.tc = tc
	c.mu.Unlock()
	close(c.ready)
	// Tracked, so that Stop returns only once nothing reads or writes.
	c.r.wg.Add(2)
	go func() { defer c.r.wg.Done(); c.writeLoop(tc) }()
	go func() { defer c.r.wg.Done(); c.readLoop(tc) }()
	c.startTicking()
}

// maxWriteBatch bounds the bytes one WriteFrames call takes from the queue,
// so that the transport can keep reusing one write buffer instead of growing
// a new one for every burst.
const maxWriteBatch = 256 << 10

func (c *conn) writeLoop(tc transport.Conn) {
	var batch []queued
	var frames [][]byte
	for {
		select {
		case <-c.notify:
		case <-c.done:
			return
		}
		for {
			batch = c.takeBatch(batch[:0])
			if len(batch) == 0 {
				break
			}
			frames = frames[:0]
			for _, q := range batch {
				frames = append(frames, q.frame)
			}
			err := tc.WriteFrames(frames)
			clear(frames)
			if err != nil {
				clear(batch)
				c.fail(err)
				return
			}
			written := 0
			for _, q := range batch {
				written += len(q.frame)
				if q.buf != nil {
					putFrameBuf(q.buf, q.frame)
				}
			}
			c.framesOut.Add(uint64(len(batch)))
			c.bytesOut.Add(uint64(written))
			clear(batch)
			if !c.spoke.Load() {
				c.spoke.Store(true)
			}
		}
	}
}

// takeBatch moves up to maxWriteBatch bytes (at least one frame) from the
// front of the queue into batch and wakes senders waiting for room.
func (c *conn) takeBatch(batch []queued) []queued {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 || c.err != nil {
		return batch
	}
	size, k := 0, 0
	for k < len(c.queue) && (k == 0 || size+len(c.queue[k].frame) <= maxWriteBatch) {
		size += len(c.queue[k].frame)
		k++
	}
	batch = append(batch, c.queue[:k]...)
	rest := copy(c.queue, c.queue[k:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	c.bytes -= size
	if c.streams != nil {
		// Queue positions moved: index the streams still waiting afresh.
		clear(c.streams)
		for i, q := range c.queue {
			if q.key != (streamKey{}) {
				c.streams[q.key] = i
			}
		}
	}
	close(c.space)
	c.space = make(chan struct{})
	return batch
}

func (c *conn) readLoop(tc transport.Conn) {
	// Frames are decoded into values of their own (DecodeEnvelope and
	// DecodeFrame share no memory with the frame), so the transport may lend
	// them from its read buffer.
	next := tc.ReadFrame
	if l, ok := tc.(transport.FrameLender); ok {
		next = l.LendFrame
	}
	for {
		b, err := next()
		if err != nil {
			c.fail(err)
			return
		}
		if !c.heard.Load() {
			c.heard.Store(true)
		}
		c.framesIn.Add(1)
		c.bytesIn.Add(uint64(len(b)))
		if len(b) == 0 {
			continue // a net tick
		}
		// One decode per frame: anything but an envelope after the
		// handshake is malformed.
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			var body *wire.BodyError
			if !errors.As(err, &body) {
				if f, ferr := wire.DecodeFrame(b); ferr == nil {
					switch {
					case f.GetFlow() != nil:
						// A relay's word on traffic for one destination.
						c.peer.setHeld(f.GetFlow().GetDest(), f.GetFlow().GetBusy())
						continue
					case f.GetProbe() != nil:
						c.probed(f.GetProbe())
						continue
					}
				}
				c.r.log.Warn("malformed frame; closing connection", "peer", c.peer.name, "err", err.Error())
				c.fail(err)
				return
			}
			if err := c.r.ep.Validate(env); err != nil {
				c.malformed(err)
				return
			}
			c.r.undecodable(c.peer.sess, env, body)
			continue
		}
		if err := c.r.inbound(c, env, len(b)); err != nil {
			c.malformed(err)
			return
		}
	}
}

// malformed closes the connection over an envelope that names no valid
// destination: the peer is broken or hostile, and only its connection goes.
func (c *conn) malformed(err error) {
	c.r.log.Warn("malformed envelope; closing connection", "peer", c.peer.name, "err", err.Error())
	c.fail(err)
}

// fail ends the connection once. If it was up and its peer is still current
// the peer goes down with it, in the same critical section that marks the
// connection failed: a send that sees the failure and retries finds the peer
// gone and dials anew, and hears nothing of the old peer's down afterwards.
//
// A connection that never came up takes nothing down if it need not: one
// that another took the place of goes quietly, and one whose peer is up over
// another connection hands its queue and its slot to that one (a node that
// cannot dial the peer back, or a dial the peer refused while its own
// connection was on its way, loses nothing). Only a peer with nothing up is
// taken down, so that what was queued is never dropped unseen: its signals'
// senders hear noconnection.
func (c *conn) fail(err error) {
	if err == nil {
		err = ErrStopped
	}
	r := c.r
	p := c.peer
	r.mu.Lock()
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		r.mu.Unlock()
		return
	}
	c.err = err
	tc := c.tc
	if c.ticker != nil {
		c.ticker.Stop()
	}
	takeDown := true
	switch {
	case c.est || r.peers[p.name] != p:
	case c.movedTo != nil:
		p.extra = slices.DeleteFunc(p.extra, func(x *conn) bool { return x == c })
		takeDown = false
	default:
		if u := p.upConnLocked(c); u != nil {
			c.moveLocked(u)
			p.replaceSlot(c, u)
			takeDown = false
			r.log.Info("connection failed before it was up; its slot goes to another connection",
				"peer", p.name, "channel", c.channel.Name, "index", c.index, "err", err.Error())
		}
	}
	c.queue, c.streams, c.bytes = nil, nil, 0
	c.mu.Unlock()
	var down *downPeer
	if takeDown {
		down = r.takePeerLocked(p, err)
	}
	r.mu.Unlock()
	close(c.done)
	if tc != nil {
		_ = tc.Close()
	}
	r.finishPeerDown(down, err)
}

// upConnLocked returns a connection of p other than c that is up, preferring
// c's channel and index, then its channel; nil if none is. r.mu is held.
func (p *peer) upConnLocked(c *conn) *conn {
	var best *conn
	rank := 0
	for _, u := range p.all() {
		if u == c || !u.est {
			continue
		}
		u.mu.Lock()
		ok := u.err == nil && u.movedTo == nil
		u.mu.Unlock()
		if !ok {
			continue
		}
		r := 1
		if u.channel.Name == c.channel.Name {
			r = 2
			if u.index == c.index {
				r = 3
			}
		}
		if r > rank {
			best, rank = u, r
		}
	}
	return best
}

// replaceSlot gives c's slot to u. r.mu is held.
func (p *peer) replaceSlot(c, u *conn) {
	if slots := p.slots[c.channel.Name]; c.index < len(slots) && slots[c.index] == c {
		slots[c.index] = u
	}
}
