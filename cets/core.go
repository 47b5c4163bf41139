package cets

import (
	"cmp"
	"slices"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// core is a table server's state machine: the data, the peer servers and
// the join ref, writes waiting for acknowledgements, pauses and the backlog
// they hold. It does no I/O and calls no user code; every step returns
// effects for the shell, in a deterministic order.
type core[K cmp.Ordered, V any] struct {
	self    actor.PID
	name    string
	data    *store[K, V]
	peers   []actor.PID // sorted, without self
	joinRef uint64

	// Local writes applied since the last flush, and their callers.
	outbox  []op[K, V]
	waiters []reply
	flushAt bool // a flush is scheduled

	nextBatch uint64
	pending   map[uint64]*pendingBatch

	pauses  []pause
	backlog []queued[K, V]

	history []DownEvent
}

type reply struct {
	from  actor.From
	value any
}

type pendingBatch struct {
	replies []reply
	waiting []actor.PID
}

type pause struct {
	ref   actor.Ref
	owner actor.PID
}

// queued is an input held back by a pause: a local write (from is set) or a
// remote batch (msg is set).
type queued[K cmp.Ordered, V any] struct {
	local  bool
	from   actor.From
	ops    []op[K, V]
	leader leaderKind
	msg    opsMsg
	remote []op[K, V]
}

// DownEvent is one entry of a table's node-down history.
type DownEvent struct {
	Remote actor.PID
	Node   string
	Reason string
	At     time.Time
}

type effKind uint8

const (
	effReply           effKind = iota + 1 // reply value to from
	effSendOps                            // send msg to pid
	effAck                                // send ackMsg{batch} to pid
	effPublish                            // publish a snapshot for readers
	effScheduleFlush                      // send the server a flush message
	effMonitorPeer                        // monitor pid as a peer server
	effHandleDown                         // call HandleDown with down
	effMonitorPauser                      // monitor pid for pause ref
	effDemonitorPauser                    // drop the monitor of pause ref
)

type effect[K cmp.Ordered, V any] struct {
	kind  effKind
	from  actor.From
	value any
	pid   actor.PID
	ref   actor.Ref
	batch uint64
	ops   []op[K, V]
	down  DownInfo
}

func newCore[K cmp.Ordered, V any](self actor.PID, name string, data *store[K, V], joinRef uint64) *core[K, V] {
	return &core[K, V]{self: self, name: name, data: data, joinRef: joinRef, pending: map[uint64]*pendingBatch{}}
}

func (c *core[K, V]) paused() bool { return len(c.pauses) > 0 }

// leader is the highest PID among the server and its peers.
func (c *core[K, V]) leader() actor.PID {
	l := c.self
	for _, p := range c.peers {
		if comparePID(p, l) > 0 {
			l = p
		}
	}
	return l
}

func comparePID(a, b actor.PID) int {
	if r := cmp.Compare(a.Node, b.Node); r != 0 {
		return r
	}
	if r := cmp.Compare(a.Creation, b.Creation); r != 0 {
		return r
	}
	return cmp.Compare(a.ID, b.ID)
}

// write is a local write from a caller, answered with value once every peer
// has applied it or gone down.
func (c *core[K, V]) write(from actor.From, ops []op[K, V], value any) []effect[K, V] {
	if c.paused() {
		c.backlog = append(c.backlog, queued[K, V]{local: true, from: from, ops: ops})
		return nil
	}
	return c.applyLocal(from, ops, value, nil)
}

func (c *core[K, V]) applyLocal(from actor.From, ops []op[K, V], value any, effs []effect[K, V]) []effect[K, V] {
	for _, o := range ops {
		c.data.apply(o)
	}
	c.outbox = append(c.outbox, ops...)
	c.waiters = append(c.waiters, reply{from: from, value: value})
	if !c.flushAt {
		c.flushAt = true
		effs = append(effs, effect[K, V]{kind: effScheduleFlush})
	}
	return effs
}

// leaderOp is a leader operation that reached this server.
func (c *core[K, V]) leaderOp(from actor.From, kind leaderKind, recs []V) []effect[K, V] {
	if c.paused() {
		c.backlog = append(c.backlog, queued[K, V]{local: true, from: from, leader: kind, ops: []op[K, V]{{Kind: opInsert, Recs: recs}}})
		return nil
	}
	return c.runLeaderOp(from, kind, recs, nil)
}

func (c *core[K, V]) runLeaderOp(from actor.From, kind leaderKind, recs []V, effs []effect[K, V]) []effect[K, V] {
	if l := c.leader(); l != c.self {
		return append(effs, effect[K, V]{kind: effReply, from: from, value: wrongLeaderReply{Leader: l}})
	}
	ops := []op[K, V]{{Kind: opInsert, Recs: recs}}
	if kind == leaderInsertSerial {
		return c.applyLocal(from, ops, leaderResult[V]{inserted: true}, effs)
	}
	var existing []V
	for _, r := range recs {
		if it, ok := c.data.get(c.data.key(r)); ok {
			existing = it.records(existing)
		}
	}
	if len(existing) > 0 {
		return append(effs, effect[K, V]{kind: effReply, from: from, value: leaderResult[V]{existing: existing}})
	}
	return c.applyLocal(from, ops, leaderResult[V]{inserted: true}, effs)
}

// leaderResult is the typed answer the shell encodes into leaderReply.
type leaderResult[V any] struct {
	inserted bool
	existing []V
}

// maxInFlight is how many batches may wait for acknowledgements at once.
// Writes that arrive meanwhile gather into the next batch, sent when one in
// flight is acknowledged: under load batches grow with the number of
// writers, and a lone writer never waits for this.
const maxInFlight = 1

// flush publishes what local writes changed and sends it to every peer in
// one batch.
func (c *core[K, V]) flush() []effect[K, V] {
	c.flushAt = false
	if len(c.waiters) == 0 {
		return nil
	}
	if len(c.peers) > 0 && len(c.pending) >= maxInFlight {
		return nil // sent when a batch in flight is acknowledged
	}
	effs := []effect[K, V]{{kind: effPublish}}
	ops, waiters := c.outbox, c.waiters
	c.outbox, c.waiters = nil, nil
	if len(c.peers) == 0 {
		return appendReplies(effs, waiters)
	}
	c.nextBatch++
	c.pending[c.nextBatch] = &pendingBatch{replies: waiters, waiting: slices.Clone(c.peers)}
	msg := opsMsg{From: c.self, JoinRef: c.joinRef, Batch: c.nextBatch}
	for _, p := range c.peers {
		effs = append(effs, effect[K, V]{kind: effSendOps, pid: p, value: msg, ops: ops})
	}
	return effs
}

func appendReplies[K cmp.Ordered, V any](effs []effect[K, V], rs []reply) []effect[K, V] {
	for _, r := range rs {
		effs = append(effs, effect[K, V]{kind: effReply, from: r.from, value: r.value})
	}
	return effs
}

// remoteOps is a batch from a peer. One tagged with another join ref is
// dropped, but acknowledged all the same, so its sender never waits for it.
func (c *core[K, V]) remoteOps(msg opsMsg, ops []op[K, V]) []effect[K, V] {
	if c.paused() {
		c.backlog = append(c.backlog, queued[K, V]{msg: msg, remote: ops})
		return nil
	}
	return c.applyRemote(msg, ops, nil)
}

func (c *core[K, V]) applyRemote(msg opsMsg, ops []op[K, V], effs []effect[K, V]) []effect[K, V] {
	if msg.JoinRef == c.joinRef {
		for _, o := range ops {
			c.data.apply(o)
		}
		effs = append(effs, effect[K, V]{kind: effPublish})
	}
	return append(effs, effect[K, V]{kind: effAck, pid: msg.From, batch: msg.Batch})
}

// ack is a peer's acknowledgement of batch.
func (c *core[K, V]) ack(from actor.PID, batch uint64) []effect[K, V] {
	pb := c.pending[batch]
	if pb == nil {
		return nil
	}
	return c.stopWaiting(batch, pb, from, nil)
}

func (c *core[K, V]) stopWaiting(batch uint64, pb *pendingBatch, peer actor.PID, effs []effect[K, V]) []effect[K, V] {
	i := slices.Index(pb.waiting, peer)
	if i < 0 {
		return effs
	}
	pb.waiting = slices.Delete(pb.waiting, i, i+1)
	if len(pb.waiting) > 0 {
		return effs
	}
	delete(c.pending, batch)
	effs = appendReplies(effs, pb.replies)
	if len(c.waiters) > 0 && !c.flushAt {
		effs = append(effs, c.flush()...)
	}
	return effs
}

// peerDown drops a lost peer: writes stop waiting for it, the leader is
// recomputed, and HandleDown is asked for once.
func (c *core[K, V]) peerDown(peer actor.PID, reason error, now time.Time) []effect[K, V] {
	i := slices.Index(c.peers, peer)
	if i < 0 {
		return nil
	}
	c.peers = slices.Delete(c.peers, i, i+1)
	batches := make([]uint64, 0, len(c.pending))
	for b := range c.pending {
		batches = append(batches, b)
	}
	slices.Sort(batches)
	var effs []effect[K, V]
	for _, b := range batches {
		effs = c.stopWaiting(b, c.pending[b], peer, effs)
	}
	text := ""
	if reason != nil {
		text = reason.Error()
	}
	c.history = append(c.history, DownEvent{Remote: peer, Node: peer.Node, Reason: text, At: now})
	return append(effs, effect[K, V]{kind: effHandleDown, down: DownInfo{
		Table: c.name, Remote: peer, IsLeader: c.leader() == c.self, Reason: reason,
	}})
}

// pause holds writes back until every pause is released; ref is the new
// pause's reference and owner the process whose death releases it.
func (c *core[K, V]) pause(ref actor.Ref, owner actor.PID) []effect[K, V] {
	c.pauses = append(c.pauses, pause{ref: ref, owner: owner})
	if owner.IsZero() {
		return nil
	}
	return []effect[K, V]{{kind: effMonitorPauser, pid: owner, ref: ref}}
}

// unpause releases pause ref; the last release runs the backlog, in the
// order it arrived. ok is false for a ref that is not a pause here.
func (c *core[K, V]) unpause(ref actor.Ref, ownerDown bool) (effs []effect[K, V], ok bool) {
	i := slices.IndexFunc(c.pauses, func(p pause) bool { return p.ref == ref })
	if i < 0 {
		return nil, false
	}
	owner := c.pauses[i].owner
	c.pauses = slices.Delete(c.pauses, i, i+1)
	if !ownerDown && !owner.IsZero() {
		effs = append(effs, effect[K, V]{kind: effDemonitorPauser, ref: ref})
	}
	if c.paused() {
		return effs, true
	}
	backlog := c.backlog
	c.backlog = nil
	for _, q := range backlog {
		switch {
		case q.local && q.leader != 0:
			effs = c.runLeaderOp(q.from, q.leader, q.ops[0].Recs, effs)
		case q.local:
			effs = c.applyLocal(q.from, q.ops, true, effs)
		default:
			effs = c.applyRemote(q.msg, q.remote, effs)
		}
	}
	return effs, true
}

// joined is a join's last step here: the other side's records, the other
// side's servers as new peers, and the new join ref.
func (c *core[K, V]) joined(peers []actor.PID, joinRef uint64, recs []V) []effect[K, V] {
	for _, r := range recs {
		c.data.insert(r)
	}
	var effs []effect[K, V]
	for _, p := range peers {
		if p == c.self || slices.Contains(c.peers, p) {
			continue
		}
		c.peers = append(c.peers, p)
		effs = append(effs, effect[K, V]{kind: effMonitorPeer, pid: p})
	}
	slices.SortFunc(c.peers, comparePID)
	c.joinRef = joinRef
	return append(effs, effect[K, V]{kind: effPublish})
}
