package remote

import (
	"errors"
	"time"

	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// The net tick, as Erlang's net_kernel keeps it: every NetTickTime/4 a
// connection that wrote nothing in that time writes a tick (an empty frame),
// and a connection that read nothing for four such intervals in a row, that
// is for NetTickTime, is declared lost: a peer that froze (SIGSTOP, a hung
// host, a cable pulled without a reset) takes noconnection down with it
// instead of holding links, monitors and calls for ever.
//
// Each tick also sends a probe the peer answers at once on the same
// connection (protocol version 4): the time to its answer is the live
// path's round trip, queueing on both sides included, which ConnStats
// reports. A probe is traffic, so a connection that probes needs no empty
// tick frame; the empty frame stays for a connection whose probe is still
// out.

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
	c.spoke.Store(false)
	c.probe()
	c.mu.Lock()
	if c.err == nil {
		c.ticker.Reset(c.r.cfg.NetTickTime / ticksPerTickTime)
	}
	c.mu.Unlock()
}

// probe sends a round-trip probe, or an empty tick while the last probe is
// still unanswered (its time keeps running: the round trip it measures is
// the one ConnStats shows once it comes back).
func (c *conn) probe() {
	c.mu.Lock()
	out := c.probeSeq != 0
	if !out {
		c.probeNext++
		c.probeSeq = c.probeNext
		c.probeSent = time.Now()
	}
	seq := c.probeSeq
	c.mu.Unlock()
	if out {
		c.enqueueControl(tickFrame, false)
		return
	}
	c.enqueueControl(probeFrame(seq, false), false)
}

// probed handles a probe from the peer: a question is answered at once on
// this connection; an answer to the probe out ends it and times it.
func (c *conn) probed(p *wirepb.Probe) {
	if !p.GetReply() {
		c.enqueueControl(probeFrame(p.GetSeq(), true), true)
		return
	}
	c.mu.Lock()
	if p.GetSeq() != 0 && p.GetSeq() == c.probeSeq {
		c.probeRTT = time.Since(c.probeSent)
		c.probeSeq = 0
	}
	c.mu.Unlock()
}

func probeFrame(seq uint64, reply bool) []byte {
	b, err := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Probe{Probe: &wirepb.Probe{Seq: seq, Reply: reply}}})
	if err != nil {
		panic("remote: encoding a probe: " + err.Error()) // a fixed message
	}
	return b
}

// enqueueControl queues a tick or a probe on this very connection. A
// connection whose queue was handed to another (a crossed dial kept as a
// spare) still ticks on its own transport: the peer hears every connection
// or declares it lost. This side's own ticks and probes bypass the queue's
// bound, as a queue that full is about to fail the connection anyway; an
// answer to the peer's probe counts against it with the signals' reserve,
// and one that finds even that full gives the connection up, so that a peer
// asking without reading cannot make answers pile up here.
func (c *conn) enqueueControl(frame []byte, answer bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if answer && c.bytes > 0 && c.bytes+len(frame) > c.r.cfg.SendQueueBytes+c.r.cfg.SignalReserveBytes {
		c.mu.Unlock()
		c.fail(errSignalQueueFull)
		return
	}
	c.queue = append(c.queue, queued{frame: frame})
	c.bytes += len(frame)
	wake := len(c.queue) == 1
	c.mu.Unlock()
	if wake {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}
