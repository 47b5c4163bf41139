package dist

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// conn is the connection to one other node: a bounded queue of packets, a
// writer, a reader, the tick, and the tables that map the peer's references
// and calls to gotp's.
type conn struct {
	d    *Dist
	peer string

	up   chan struct{} // closed once the handshake is done
	done chan struct{} // closed when the connection is finished

	mu       sync.Mutex
	nc       net.Conn
	info     peerInfo
	sess     *actor.Session
	queue    []outPkt
	bytes    int
	notify   chan struct{}
	failErr  error
	movedTo  *conn
	nextRef  uint64
	nextLink uint64

	// References the peer made, as gotp references of its node, and back.
	erlRefs  map[string]actor.Ref
	gotpRefs map[uint64]remoteRef
	// Calls the peer makes to gotp processes, by their gotp reference.
	erlCalls map[uint64]erlCall
	// Calls gotp processes make to the peer's, by their gotp reference.
	goCalls map[uint64]goCall

	heard, spoke atomic.Bool

	// The reader's alone: the peer's atom cache and its messages in parts.
	atoms atomCache
	frags fragments
	// The writer's alone: the sequence id of the last message it sent in
	// fragments.
	fragSeq uint64
}

// remoteRef is a reference the peer made: a monitor of one of our processes.
type remoteRef struct {
	ref    etf.Ref
	byName etf.Atom // the name it monitors by, if it does
}

// erlCall is a gen_server call from the peer: where its reply goes.
type erlCall struct {
	pid etf.Pid
	tag any // a reference, or [alias|Ref]
}

// goCall is a call to the peer: the monitor it holds.
type goCall struct {
	from actor.PID
	to   any // the callee: etf.Pid, or etf.Atom for a name
}

func newConn(d *Dist, peer string) *conn {
	return &conn{
		d: d, peer: peer,
		up: make(chan struct{}), done: make(chan struct{}), notify: make(chan struct{}, 1),
		erlRefs: make(map[string]actor.Ref), gotpRefs: make(map[uint64]remoteRef),
		erlCalls: make(map[uint64]erlCall), goCalls: make(map[uint64]goCall),
	}
}

func (c *conn) isUp() bool {
	select {
	case <-c.up:
		return true
	default:
		return false
	}
}

func (c *conn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failErr
}

// supersede hands what waits in c's queue to next, an inbound connection
// from the same node that took c's place while c was still dialing.
func (c *conn) supersede(next *conn) {
	c.mu.Lock()
	next.queue, next.bytes = c.queue, c.bytes
	c.queue, c.bytes = nil, 0
	c.movedTo = next
	c.mu.Unlock()
}

// start runs the connection over nc once its handshake is done.
func (c *conn) start(nc net.Conn, info peerInfo) {
	c.mu.Lock()
	if c.failErr != nil {
		c.mu.Unlock()
		nc.Close()
		return
	}
	c.nc, c.info = nc, info
	c.sess = c.d.ep.Session(c.peer)
	c.mu.Unlock()
	close(c.up)
	c.d.log.Info("erlang node up", "peer", c.peer)
	c.d.wg.Add(3)
	go func() { defer c.d.wg.Done(); c.writeLoop(nc) }()
	go func() { defer c.d.wg.Done(); c.readLoop(nc) }()
	go func() { defer c.d.wg.Done(); c.tickLoop(nc) }()
}

// fail ends the connection once: the node hears the peer is down, so every
// link, monitor and call across it fires with noconnection.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.failErr != nil {
		c.mu.Unlock()
		return
	}
	c.failErr = err
	nc, moved := c.nc, c.movedTo
	c.queue, c.bytes = nil, 0
	c.mu.Unlock()
	close(c.done)
	if nc != nil {
		nc.Close()
	}
	if moved != nil {
		return // a connection that took this one's place carries the session
	}
	if c.d.drop(c) {
		c.d.log.Info("erlang node down", "peer", c.peer, "reason", err.Error())
		c.d.ep.NodeDown(c.peer, err)
	}
}

// enqueue adds a packet. A message past the bound is ErrQueueFull; a signal
// may go to twice the bound, past which the connection is given up.
func (c *conn) enqueue(pkt outPkt, signal bool) error {
	for {
		c.mu.Lock()
		if next := c.movedTo; next != nil {
			c.mu.Unlock()
			c = next
			continue
		}
		break
	}
	if c.failErr != nil {
		err := c.failErr
		c.mu.Unlock()
		return fmt.Errorf("%w: %s: %w", actor.ErrNoConnection, c.peer, err)
	}
	limit := c.d.cfg.QueueBytes
	if signal {
		limit *= 2
	}
	if c.bytes > 0 && c.bytes+len(pkt.b) > limit {
		c.mu.Unlock()
		if signal {
			c.fail(errors.New("dist: send queue full even for signals"))
			return fmt.Errorf("%w: %s", actor.ErrNoConnection, c.peer)
		}
		return fmt.Errorf("%w: %s", ErrQueueFull, c.peer)
	}
	c.queue = append(c.queue, pkt)
	c.bytes += len(pkt.b)
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

func (c *conn) writeLoop(nc net.Conn) {
	w := bufio.NewWriterSize(nc, 64<<10)
	for {
		select {
		case <-c.notify:
		case <-c.done:
			return
		}
		c.mu.Lock()
		batch := c.queue
		c.queue, c.bytes = nil, 0
		header := c.info.flags&flagDistHdrAtomCache != 0
		c.mu.Unlock()
		for _, pkt := range batch {
			if err := c.writePacket(w, pkt, header); err != nil {
				c.fail(err)
				return
			}
		}
		if err := w.Flush(); err != nil {
			c.fail(err)
			return
		}
		c.spoke.Store(true)
	}
}

// maxPacket bounds a packet from the peer (Erlang's own default has none; a
// gotp node refuses more than this rather than allocate it).
const maxPacket = 64 << 20

func (c *conn) readLoop(nc net.Conn) {
	r := bufio.NewReaderSize(nc, 64<<10)
	var lb [4]byte
	for {
		if _, err := io.ReadFull(r, lb[:]); err != nil {
			c.fail(err)
			return
		}
		c.heard.Store(true)
		n := binary.BigEndian.Uint32(lb[:])
		if n == 0 {
			continue // a tick
		}
		if n > maxPacket {
			c.fail(fmt.Errorf("dist: packet of %d bytes from %s", n, c.peer))
			return
		}
		pkt := make([]byte, n)
		if _, err := io.ReadFull(r, pkt); err != nil {
			c.fail(err)
			return
		}
		if err := c.handle(pkt); err != nil {
			c.d.log.Warn("malformed erlang packet; closing the connection", "peer", c.peer, "err", err.Error())
			c.fail(err)
			return
		}
	}
}

// tickLoop is net_kernel's tick: an empty packet when nothing was written
// for a quarter of the tick time, and the connection given up when nothing
// was heard for the whole of it.
func (c *conn) tickLoop(nc net.Conn) {
	quarter := c.d.cfg.TickTime / 4
	t := time.NewTicker(quarter)
	defer t.Stop()
	silent := 0
	for {
		select {
		case <-t.C:
		case <-c.done:
			return
		}
		if c.heard.Swap(false) {
			silent = 0
		} else if silent++; silent >= 4 {
			c.fail(fmt.Errorf("%w: net tick: %s silent for %v", actor.ErrNoConnection, c.peer, c.d.cfg.TickTime))
			return
		}
		if !c.spoke.Swap(false) {
			_ = c.enqueue(outPkt{b: []byte{0, 0, 0, 0}}, true)
		}
	}
}

// outPkt is a packet on its way out, in the pass-through form: length,
// 'p', the control message and the message with their version bytes; msgAt
// is where the message starts (0: there is none). A tick is four zero bytes.
type outPkt struct {
	b     []byte
	msgAt int
}

// packet encodes a pass-through packet: the control tuple and, for messages
// and payload signals, the message.
func packet(ctl etf.Tuple, msg any, withMsg bool) (outPkt, error) {
	b := []byte{0, 0, 0, 0, 'p'}
	b = append(b, 131)
	b, err := etf.Append(b, ctl)
	if err != nil {
		return outPkt{}, err
	}
	at := 0
	if withMsg {
		at = len(b)
		b = append(b, 131)
		if b, err = etf.Append(b, msg); err != nil {
			return outPkt{}, fmt.Errorf("dist: message for Erlang: %w", err)
		}
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return outPkt{b: b, msgAt: at}, nil
}

// fragmentSize bounds the data (control message and message) of one
// fragment: a larger message goes in parts to a peer that takes fragments
// (DFLAG_FRAGMENTS), so that it does not hold the connection, or the peer's
// reader, for one huge packet.
const fragmentSize = 64 << 10

// writePacket writes a packet as the peer takes it: whole, or behind a
// fragment header ('E') and in continuations ('F'), their ids counting down
// to 1, when it is larger than a fragment and the peer takes fragments.
func (c *conn) writePacket(w *bufio.Writer, p outPkt, header bool) error {
	if !header || len(p.b) <= 4 || c.info.flags&flagFragments == 0 {
		return p.writeTo(w, header)
	}
	_, ctl, msg := p.parts()
	total := len(ctl) + len(msg)
	if total <= fragmentSize {
		return p.writeTo(w, header)
	}
	c.fragSeq++
	id := uint64((total + fragmentSize - 1) / fragmentSize)
	data := [2][]byte{ctl, msg}
	for first := true; id > 0; first, id = false, id-1 {
		n := min(fragmentSize, len(data[0])+len(data[1]))
		var head [23]byte
		h := head[:4]
		if first {
			h = append(h, 131, distFragHeader)
		} else {
			h = append(h, 131, distFragCont)
		}
		h = binary.BigEndian.AppendUint64(h, c.fragSeq)
		h = binary.BigEndian.AppendUint64(h, id)
		if first {
			h = append(h, 0) // no atom cache references
		}
		binary.BigEndian.PutUint32(h, uint32(len(h)-4+n))
		if _, err := w.Write(h); err != nil {
			return err
		}
		for n > 0 {
			k := min(n, len(data[0]))
			if k == 0 {
				data[0], data[1] = data[1], nil
				continue
			}
			if _, err := w.Write(data[0][:k]); err != nil {
				return err
			}
			data[0], n = data[0][k:], n-k
		}
	}
	return nil
}

// writeTo writes the packet as the peer takes it: as it is, or (header)
// after a distribution header that names no atoms, the terms without their
// version bytes, which a peer that negotiated the atom cache requires.
func (p outPkt) writeTo(w *bufio.Writer, header bool) error {
	if !header || len(p.b) <= 4 {
		_, err := w.Write(p.b)
		return err
	}
	head, ctl, msg := p.parts()
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	if _, err := w.Write(ctl); err != nil {
		return err
	}
	_, err := w.Write(msg)
	return err
}

// parts lays a pass-through packet out behind a distribution header: the
// length and the header (131, 'D', no atoms), then the control message and
// the message (if any), both without their version bytes.
func (p outPkt) parts() (head [7]byte, ctl, msg []byte) {
	ctlEnd, n := len(p.b), len(p.b)-4+1 // 'p' and the 131 become 131, 'D', 0
	if p.msgAt > 0 {
		ctlEnd, n = p.msgAt, n-1
		msg = p.b[p.msgAt+1:]
	}
	binary.BigEndian.PutUint32(head[:], uint32(n))
	head[4], head[5], head[6] = 131, distHeader, 0
	return head, p.b[6:ctlEnd], msg
}
