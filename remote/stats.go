package remote

import (
	"cmp"
	"slices"
	"time"
)

// ConnStat describes one connection to a peer: where it is in the peer's
// channels, whether it is up, what it carried (frames and bytes, length
// prefixes not counted; net ticks count as frames of no bytes, round-trip
// probes as frames of a few), what waits in its send queue, and its round
// trip.
type ConnStat struct {
	Peer    string
	Channel string
	Index   int
	// Inbound: the peer dialed it. Spare: it lost its slot to a crossed
	// dial and carries only what the peer sends on it.
	Inbound, Spare bool
	Up             bool
	FramesOut      uint64
	BytesOut       uint64
	FramesIn       uint64
	BytesIn        uint64
	QueueFrames    int
	QueueBytes     int
	// HandshakeRTT is the round trip of the connection's handshake, timed
	// by this side (hello to challenge when it dialed, challenge to answer
	// when it accepted): a sample of the path's latency at connect time.
	HandshakeRTT time.Duration
	// RTT is the latest round trip measured on the live connection: every
	// net tick interval (Config.NetTickTime/4) each side sends a probe the
	// other answers at once, queued behind what already waited on both
	// sides. Zero until the first answer, and when ticking is off.
	RTT time.Duration
}

// ConnStats describes every connection of every peer, sorted by peer,
// channel and index.
func (r *Remote) ConnStats() []ConnStat {
	r.mu.Lock()
	var out []ConnStat
	for _, p := range r.peers {
		spare := make(map[*conn]bool, len(p.extra))
		for _, c := range p.extra {
			spare[c] = true
		}
		for _, c := range p.all() {
			c.mu.Lock()
			st := ConnStat{
				Peer: p.name, Channel: c.channel.Name, Index: c.index,
				Inbound: c.inbound, Spare: spare[c] || c.movedTo != nil,
				Up:          c.est && c.err == nil,
				QueueFrames: len(c.queue), QueueBytes: c.bytes,
				HandshakeRTT: c.rtt, RTT: c.probeRTT,
			}
			c.mu.Unlock()
			st.FramesOut, st.BytesOut = c.framesOut.Load(), c.bytesOut.Load()
			st.FramesIn, st.BytesIn = c.framesIn.Load(), c.bytesIn.Load()
			out = append(out, st)
		}
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b ConnStat) int {
		return cmp.Or(cmp.Compare(a.Peer, b.Peer), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Index, b.Index), cmp.Compare(b2i(a.Spare), b2i(b.Spare)))
	})
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
