package remote

import (
	"errors"
	"time"
)

// The net tick, as Erlang's net_kernel keeps it: every NetTickTime/4 a
// connection that wrote nothing in that time writes a tick (an empty frame),
// and a connection that read nothing for four such intervals in a row, that
// is for NetTickTime, is declared lost: a peer that froze (SIGSTOP, a hung
// host, a cable pulled without a reset) takes noconnection down with it
// instead of holding links, monitors and calls for ever.

// ErrNetTick: nothing arrived on a connection for NetTickTime.
var ErrNetTick = errors.New("remote: no traffic from peer within the net tick time")

// tickFrame is what a tick writes: a frame with no bytes, which readers skip.
var tickFrame = []byte{}

const ticksPerTickTime = 4

// startTicking arms the connection's tick once it is up.
func (c *conn) startTicking() {
	every := c.r.cfg.NetTickTime / ticksPerTickTime
	if c.r.cfg.NetTickTime <= 0 || every <= 0 {
		return
	}
	c.mu.Lock()
	if c.err == nil {
		c.ticker = time.AfterFunc(every, c.tick)
	}
	c.mu.Unlock()
}

// tick runs every NetTickTime/4 on a live connection.
func (c *conn) tick() {
	select {
	case <-c.done:
		return
	default:
	}
	if c.heard.Swap(false) {
		c.silent = 0
	} else if c.silent++; c.silent >= ticksPerTickTime {
		c.r.log.Warn("peer silent for the net tick time; closing connection",
			"peer", c.peer.name, "net_tick_time", c.r.cfg.NetTickTime.String())
		c.fail(ErrNetTick)
		return
	}
	if !c.spoke.Swap(false) {
		c.enqueueTick()
	}
	c.mu.Lock()
	if c.err == nil {
		c.ticker.Reset(c.r.cfg.NetTickTime / ticksPerTickTime)
	}
	c.mu.Unlock()
}

// enqueueTick queues a tick on this very connection. A connection whose
// queue was handed to another (a crossed dial kept as a spare) still ticks on
// its own transport: the peer hears every connection or declares it lost.
// Ticks bypass the queue's bound, as signals do; a queue that full is about
// to fail the connection anyway.
func (c *conn) enqueueTick() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, queued{frame: tickFrame})
	wake := len(c.queue) == 1
	c.mu.Unlock()
	if wake {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}
