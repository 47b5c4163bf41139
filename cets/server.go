package cets

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gotp-dev/gotp/actor"
)

// shared is what a table's server and its handles share on one node: the
// published snapshot, which survives a restart of the server.
type shared[K cmp.Ordered, V any] struct {
	snap atomic.Pointer[snapshot[K, V]]
	ix   atomic.Pointer[index[K, V]]
}

func (sh *shared[K, V]) reset(data *store[K, V]) {
	sh.ix.Store(data.ix)
	sh.snap.Store(data.snapshot())
}

// flushMsg is the server's message to itself that ends a batch: every write
// that arrived before it goes to the peers in one message.
type flushMsg struct{}

// localWrite is a write from a handle on this node (never crosses nodes).
type localWrite[K cmp.Ordered, V any] struct {
	ops []op[K, V]
}

// server is the gen_server shell around core.
type server[K cmp.Ordered, V any] struct {
	name   string
	opts   Options[K, V]
	shared *shared[K, V]
	core   *core[K, V]
	peers  map[actor.Ref]actor.PID // peer monitors
	pauses map[actor.Ref]actor.Ref // pauser monitor -> pause ref
	byRef  map[actor.Ref]actor.Ref // pause ref -> pauser monitor
	// streams are the gob streams with peers, when the codec is the default.
	streams *streams
}

func newServer[K cmp.Ordered, V any](name string, opts Options[K, V], sh *shared[K, V]) *server[K, V] {
	return &server[K, V]{name: name, opts: opts, shared: sh,
		peers: map[actor.Ref]actor.PID{}, pauses: map[actor.Ref]actor.Ref{}, byRef: map[actor.Ref]actor.Ref{}}
}

// streamed reports whether batches travel in per-peer gob streams.
func (s *server[K, V]) streamed() bool {
	_, ok := s.opts.Codec.(GobCodec)
	return ok
}

func (s *server[K, V]) Init(p *actor.Process) error {
	data := newStore(s.opts.Type, s.opts.Key, s.opts.Equal)
	s.core = newCore(p.Self(), s.name, data, rand.Uint64())
	s.shared.reset(data)
	s.streams = newStreams()
	return nil
}

func (s *server[K, V]) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	switch r := req.(type) {
	case localWrite[K, V]:
		s.run(p, s.core.write(from, r.ops, true))
		return actor.NoReply, nil
	case leaderReq:
		var recs []V
		if err := s.opts.Codec.Unmarshal(r.Payload, &recs); err != nil {
			return fmt.Errorf("%w: %v", ErrDecode, err), nil
		}
		s.run(p, s.core.leaderOp(from, r.Kind, recs))
		return actor.NoReply, nil
	case pauseReq:
		ref := p.Node().MakeRef()
		s.run(p, s.core.pause(ref, r.Owner))
		return ref, nil
	case unpauseReq:
		effs, ok := s.core.unpause(r.Ref, false)
		if !ok {
			return ErrUnknownPauseMonitor, nil
		}
		s.run(p, effs)
		return true, nil
	case pingReq:
		return true, nil
	case infoReq:
		return s.info(), nil
	case dumpChunkReq:
		return s.dumpChunk(r), nil
	case mergeReq:
		return s.merge(p, r), nil
	case sendDumpReq:
		var recs []V
		if len(r.Dump) > 0 {
			if err := s.opts.Codec.Unmarshal(r.Dump, &recs); err != nil {
				return fmt.Errorf("%w: %v", ErrDecode, err), nil
			}
		}
		s.run(p, s.core.joined(r.Peers, r.JoinRef, recs))
		return true, nil
	case checkReachReq:
		// Pinged servers may be checking this one at the same moment: ping
		// from a helper so the server itself never waits.
		servers := r.Servers
		helper, err := p.Spawn(actor.Func(func(h *actor.Process, _ any) error {
			_ = h.Reply(from, checkReach(h, servers))
			return actor.Normal
		}))
		if err != nil {
			return err, nil
		}
		_ = p.Send(helper, struct{}{})
		return actor.NoReply, nil
	}
	return fmt.Errorf("cets: unknown request %T", req), nil
}

func (s *server[K, V]) HandleInfo(p *actor.Process, msg any) error {
	if l, ok := msg.([]any); ok {
		if m, ok := decodeList(l); ok {
			msg = m
		}
	}
	switch m := msg.(type) {
	case flushMsg:
		s.run(p, s.core.flush())
	case opsMsg:
		var ops []op[K, V]
		var err error
		if m.Stream != 0 {
			err = s.streams.decode(m.From, m.Stream, m.Seq, m.Payload, &ops)
		} else {
			err = s.opts.Codec.Unmarshal(m.Payload, &ops)
		}
		if err != nil {
			// Acknowledge all the same: the sender must not wait for ever.
			s.opts.Logger.Error("cets: undecodable batch", "table", s.name, "from", m.From.String(), "error", err)
			_ = p.Send(m.From, ackMsg{From: p.Self(), Batch: m.Batch}.list())
			return nil
		}
		s.run(p, s.core.remoteOps(m, ops))
	case ackMsg:
		s.run(p, s.core.ack(m.From, m.Batch))
	case actor.DownMessage:
		if peer, ok := s.peers[m.Ref]; ok {
			delete(s.peers, m.Ref)
			s.opts.Logger.Info("cets: peer down", "table", s.name, "peer", peer.String(), "reason", m.Reason)
			s.run(p, s.core.peerDown(peer, m.Reason, time.Now()))
			return nil
		}
		if ref, ok := s.pauses[m.Ref]; ok {
			delete(s.pauses, m.Ref)
			delete(s.byRef, ref)
			effs, _ := s.core.unpause(ref, true)
			s.run(p, effs)
		}
	}
	return nil
}

// run carries out the core's effects in order.
func (s *server[K, V]) run(p *actor.Process, effs []effect[K, V]) {
	published := false
	var encoded []byte
	var encodedFor uint64
	for _, e := range effs {
		switch e.kind {
		case effPublish:
			if !published {
				s.shared.snap.Store(s.core.data.snapshot())
				published = true
			}
		case effReply:
			_ = p.Reply(e.from, s.replyValue(e.value))
		case effSendOps:
			msg := e.value.(opsMsg)
			if s.streamed() {
				id, seq, payload, err := s.streams.encode(e.pid, e.ops)
				if err != nil {
					s.opts.Logger.Error("cets: cannot encode batch", "table", s.name, "error", err)
				}
				msg.Stream, msg.Seq, msg.Payload = id, seq, payload
				if err := p.Send(e.pid, msg.list()); err != nil {
					s.opts.Logger.Debug("cets: send batch", "table", s.name, "to", e.pid.String(), "error", err)
				}
				continue
			}
			// One encoding per batch, whatever the number of peers.
			if encodedFor != msg.Batch {
				var err error
				encoded, err = s.opts.Codec.Marshal(e.ops)
				if err != nil {
					s.opts.Logger.Error("cets: cannot encode batch", "table", s.name, "error", err)
				}
				encodedFor = msg.Batch
			}
			msg.Payload = encoded
			if err := p.Send(e.pid, msg.list()); err != nil {
				s.opts.Logger.Debug("cets: send batch", "table", s.name, "to", e.pid.String(), "error", err)
			}
		case effAck:
			_ = p.Send(e.pid, ackMsg{From: p.Self(), Batch: e.batch}.list())
		case effScheduleFlush:
			_ = p.Send(p.Self(), flushMsg{})
		case effMonitorPeer:
			s.peers[p.Monitor(e.pid)] = e.pid
		case effHandleDown:
			s.streams.drop(e.down.Remote)
			s.handleDown(p, e.down)
		case effMonitorPauser:
			m := p.Monitor(e.pid)
			s.pauses[m] = e.ref
			s.byRef[e.ref] = m
		case effDemonitorPauser:
			if m, ok := s.byRef[e.ref]; ok {
				p.Demonitor(m)
				delete(s.byRef, e.ref)
				delete(s.pauses, m)
			}
		}
	}
}

// replyValue turns a core's typed answer into one that can cross nodes.
func (s *server[K, V]) replyValue(v any) any {
	lr, ok := v.(leaderResult[V])
	if !ok {
		return v
	}
	out := leaderReply{Inserted: lr.inserted}
	if len(lr.existing) > 0 {
		b, err := s.opts.Codec.Marshal(lr.existing)
		if err != nil {
			return err
		}
		out.Existing = b
	}
	return out
}

// handleDown runs HandleDown in a process of its own, as CETS does, so
// that a handler may use the table (a write from it would otherwise wait
// for the very server that runs it).
func (s *server[K, V]) handleDown(p *actor.Process, d DownInfo) {
	if s.opts.HandleDown == nil {
		return
	}
	fn, logger, name := s.opts.HandleDown, s.opts.Logger, s.name
	pid, err := p.Spawn(actor.Func(func(_ *actor.Process, _ any) error {
		defer func() {
			if r := recover(); r != nil {
				logger.Error("cets: HandleDown panicked", "table", name, "panic", fmt.Sprint(r))
			}
		}()
		fn(d)
		return actor.Normal
	}))
	if err != nil {
		logger.Error("cets: cannot run HandleDown", "table", name, "error", err)
		return
	}
	_ = p.Send(pid, struct{}{})
}

// checkReach tells whether p's node reaches each of servers, with a ping
// each.
func checkReach(p *actor.Process, servers []actor.PID) error {
	for _, pid := range servers {
		ctx, cancel := context.WithTimeout(context.Background(), reachTimeout)
		_, err := p.Call(ctx, pid, pingReq{})
		cancel()
		if err != nil {
			return fmt.Errorf("%w: %s cannot reach %s: %v", ErrCannotReach, p.Self(), pid, err)
		}
	}
	return nil
}

func (s *server[K, V]) info() Info {
	c := s.core
	nodes := []string{c.self.Node}
	for _, p := range c.peers {
		nodes = append(nodes, p.Node)
	}
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	var monitors []actor.Ref
	for _, ps := range c.pauses {
		monitors = append(monitors, ps.ref)
	}
	var zeroItem item[K, V]
	var zeroNode hashNode[K, V]
	perItem := int(unsafe.Sizeof(zeroItem)) + int(unsafe.Sizeof(zeroNode)) + 8 // tree item, index node, bucket
	return Info{
		Table:           s.name,
		Type:            s.opts.Type,
		Server:          c.self,
		Leader:          c.leader(),
		Nodes:           nodes,
		OtherServers:    slices.Clone(c.peers),
		Size:            c.data.size,
		Memory:          c.data.tree.Len() * perItem,
		JoinRef:         c.joinRef,
		NodeDownHistory: slices.Clone(c.history),
		PauseMonitors:   monitors,
		Backlog:         len(c.backlog),
	}
}

// reachTimeout bounds each ping of a join's reachability check.
const reachTimeout = 5 * time.Second
