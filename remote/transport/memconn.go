package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

var (
	errLocalClosed = fmt.Errorf("%w: %w", ErrClosed, net.ErrClosed)
	errPeerClosed  = fmt.Errorf("%w by peer", ErrClosed)
	errLinkDown    = fmt.Errorf("%w: link disconnected", ErrClosed)
)

// memTransport is one node's view of a Network.
type memTransport struct {
	network *Network
	addr    string
}

var _ Transport = (*memTransport)(nil)

// Listen listens at the node's own address; addr must be that address or "".
func (t *memTransport) Listen(addr string) (Listener, error) {
	if addr == "" {
		addr = t.addr
	}
	if t.addr == "" || addr != t.addr {
		return nil, fmt.Errorf("transport: in-memory node %q cannot listen on %q", t.addr, addr)
	}
	n := t.network
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, taken := n.listeners[addr]; taken {
		return nil, fmt.Errorf("transport: listen %s: address already in use", addr)
	}
	l := &memListener{
		network: n,
		addr:    addr,
		notify:  make(chan struct{}, 1),
		closed:  make(chan struct{}),
	}
	n.listeners[addr] = l
	return l, nil
}

// Dial connects at once, or fails at once with ErrUnreachable when addr has no
// listener or is partitioned from this node. Delays and drops apply to frames,
// not to dialing.
func (t *memTransport) Dial(ctx context.Context, addr string) (Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	n := t.network
	n.mu.Lock()
	if !n.reachableLocked(t.addr, addr) {
		n.mu.Unlock()
		return nil, fmt.Errorf("transport: dial %s from %s: %w: partitioned", addr, t.addr, ErrUnreachable)
	}
	listener := n.listeners[addr]
	if listener == nil {
		n.mu.Unlock()
		return nil, fmt.Errorf("transport: dial %s: %w: no listener", addr, ErrUnreachable)
	}
	link := newMemLink(n, t.addr, addr, n.maxFrameSize)
	n.links[link] = struct{}{}
	n.mu.Unlock()
	if !listener.enqueue(link.listenerEnd) {
		n.forget(link)
		return nil, fmt.Errorf("transport: dial %s: %w: listener closed", addr, ErrUnreachable)
	}
	return link.dialerEnd, nil
}

func (n *Network) forget(link *memLink) {
	n.mu.Lock()
	delete(n.links, link)
	n.mu.Unlock()
}

// memLink is one in-memory connection: two ends and a pipe each way.
type memLink struct {
	dialer, listener       string
	dialerEnd, listenerEnd *memConn
}

func newMemLink(n *Network, dialer, listener string, maxFrameSize int) *memLink {
	toListener := newPipe(n)
	toDialer := newPipe(n)
	link := &memLink{dialer: dialer, listener: listener}
	link.dialerEnd = &memConn{network: n, link: link, local: dialer, remote: listener,
		in: toDialer, out: toListener, maxFrameSize: maxFrameSize, closed: make(chan struct{})}
	link.listenerEnd = &memConn{network: n, link: link, local: listener, remote: dialer,
		in: toListener, out: toDialer, maxFrameSize: maxFrameSize, closed: make(chan struct{})}
	return link
}

func (l *memLink) reset() {
	l.dialerEnd.out.reset()
	l.listenerEnd.out.reset()
}

// memConn is one end of a memLink.
type memConn struct {
	network       *Network
	link          *memLink
	local, remote string
	in, out       *pipe
	maxFrameSize  int
	readLimit     atomic.Int64 // 0: maxFrameSize
	closed        chan struct{}
	closeOnce     sync.Once
}

var _ Conn = (*memConn)(nil)

// WriteFrames implements Conn: it never blocks for long (the queues are
// unbounded) and copies each frame, so the caller may reuse its buffers.
func (c *memConn) WriteFrames(frames [][]byte) error {
	select {
	case <-c.closed:
		return fmt.Errorf("transport: write to %s: %w", c.remote, errLocalClosed)
	default:
	}
	if err := checkFrameSizes(frames, c.maxFrameSize); err != nil {
		return err
	}
	if err := c.out.writable(); err != nil {
		return fmt.Errorf("transport: write to %s: %w", c.remote, err)
	}
	n := c.network
	for _, frame := range frames {
		n.sent.Add(1)
		fate := n.decide(c.local, c.remote)
		if !fate.deliver {
			n.dropped.Add(1)
			continue
		}
		frame = append(make([]byte, 0, len(frame)), frame...)
		if fate.hook != nil {
			var deliver bool
			if frame, deliver = fate.hook(c.local, c.remote, frame); !deliver {
				n.dropped.Add(1)
				continue
			}
		}
		if err := c.out.send(frame, fate.delay); err != nil {
			return fmt.Errorf("transport: write to %s: %w", c.remote, err)
		}
	}
	return nil
}

// ReadFrame implements Conn. It blocks on channels only, so a goroutine waiting
// in it is durably blocked for testing/synctest.
func (c *memConn) ReadFrame() ([]byte, error) {
	for {
		frame, ok, err := c.in.take()
		if err != nil {
			if err == io.EOF {
				return nil, io.EOF // unwrapped, as io.Reader callers expect
			}
			return nil, fmt.Errorf("transport: read from %s: %w", c.remote, err)
		}
		if ok {
			limit := readLimit(int(c.readLimit.Load()), c.maxFrameSize)
			if len(frame) > limit {
				return nil, fmt.Errorf("%w: %d bytes, max %d", ErrFrameTooLarge, len(frame), limit)
			}
			return frame, nil
		}
		select {
		case <-c.in.notify:
		case <-c.closed:
		}
	}
}

// SetReadLimit is tcpConn's SetReadLimit for the in-memory network.
func (c *memConn) SetReadLimit(n int) { c.readLimit.Store(int64(n)) }

// Close implements Conn. Frames this end already wrote still arrive, after
// their delays, and then the peer reads io.EOF; frames on their way to this end
// are discarded.
func (c *memConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.in.closeReader()
		c.out.closeWriter()
		c.network.forget(c.link)
	})
	return nil
}

func (c *memConn) LocalAddr() string              { return c.local }
func (c *memConn) RemoteAddr() string             { return c.remote }
func (c *memConn) TLSState() *tls.ConnectionState { return nil }

// pipe is one direction of a memLink: frames in flight (delayed), then frames
// delivered and waiting for ReadFrame. The queue is unbounded, so writers never
// wait for readers; notify (capacity 1) wakes the reader.
type pipe struct {
	network *Network
	notify  chan struct{}

	mu           sync.Mutex
	queue        [][]byte        // delivered, not yet read
	inflight     []inflightFrame // delayed, in delivery order
	lastDue      time.Time       // due time of the newest in-flight frame
	nextSeq      uint64
	writerClosed bool // the sending end closed: io.EOF once inflight drains
	eof          bool // the reader gets io.EOF once queue drains
	readerClosed bool // the receiving end closed: deliveries are discarded
	down         bool // Disconnect: writes fail
}

type inflightFrame struct {
	frame []byte
	seq   uint64
}

func newPipe(n *Network) *pipe {
	return &pipe{network: n, notify: make(chan struct{}, 1)}
}

func (p *pipe) signal() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

func (p *pipe) writable() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writeErrLocked()
}

func (p *pipe) writeErrLocked() error {
	switch {
	case p.down:
		return errLinkDown
	case p.readerClosed:
		return errPeerClosed
	}
	return nil
}

// send delivers frame now, or after delay; behind frames still in flight
// either way, so the pipe stays FIFO.
func (p *pipe) send(frame []byte, delay time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.writeErrLocked(); err != nil {
		return err
	}
	if delay <= 0 && len(p.inflight) == 0 {
		p.deliverLocked(frame)
		return nil
	}
	now := time.Now()
	due := now.Add(delay)
	if due.Before(p.lastDue) {
		due = p.lastDue
	}
	p.lastDue = due
	p.nextSeq++
	seq := p.nextSeq
	p.inflight = append(p.inflight, inflightFrame{frame: frame, seq: seq})
	// Timers due at the same instant may fire in any order, so each one
	// delivers everything up to its own frame.
	time.AfterFunc(due.Sub(now), func() { p.arrive(seq) })
	return nil
}

func (p *pipe) arrive(seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := 0
	for ; i < len(p.inflight) && p.inflight[i].seq <= seq; i++ {
		p.deliverLocked(p.inflight[i].frame)
		p.inflight[i] = inflightFrame{}
	}
	p.inflight = p.inflight[i:]
	p.eofIfDrainedLocked()
}

func (p *pipe) deliverLocked(frame []byte) {
	if p.readerClosed {
		p.network.lost.Add(1)
		return
	}
	p.queue = append(p.queue, frame)
	p.network.delivered.Add(1)
	p.signal()
}

func (p *pipe) eofIfDrainedLocked() {
	if p.writerClosed && len(p.inflight) == 0 && !p.eof {
		p.eof = true
		p.signal()
	}
}

// take returns the next delivered frame (ok), or an error once the pipe has
// ended; neither means the reader should wait on notify.
func (p *pipe) take() (frame []byte, ok bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.readerClosed:
		return nil, false, errLocalClosed
	case len(p.queue) > 0:
		frame = p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		if len(p.queue) > 0 {
			p.signal() // in case another reader is waiting too
		}
		return frame, true, nil
	case p.eof:
		return nil, false, io.EOF
	}
	return nil, false, nil
}

func (p *pipe) closeWriter() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writerClosed = true
	p.eofIfDrainedLocked()
}

func (p *pipe) closeReader() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readerClosed = true
	p.queue = nil
}

// reset takes the link down: in-flight frames are lost, the reader gets what
// was delivered and then io.EOF, and writes fail.
func (p *pipe) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.network.lost.Add(uint64(len(p.inflight)))
	p.inflight = nil
	p.down = true
	p.writerClosed = true
	p.eofIfDrainedLocked()
}
