package ensemble

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

// The core's inputs. A request returns its immediate answer, or
// actor.NoReply when the answer comes later through c.replies; the shell
// runs process() after every input.

// errNotLeader tells the shell to forward a request to the leader.
var errNotLeader = errors.New("ensemble: not leader")

func (c *peerCore) tick(now time.Time) {
	c.now = now
	if c.quiesced {
		return
	}
	c.rn.Tick()
	if c.state != raft.StateLeader {
		return
	}
	if c.cfg.ReadMode == LeaseRead && c.termCommitted && c.rn.BasicStatus().LeadTransferee == 0 {
		// Renew the lease: a majority acknowledging this ReadIndex's
		// heartbeat proves that no other leader is elected before
		// now + FollowerTimeout, and Lease is shorter.
		seq := c.nextSeq()
		c.leaseSent[seq] = now
		c.rn.ReadIndex(seqCtx(seq))
		for s, sent := range c.leaseSent {
			if now.Sub(sent) > c.cfg.FollowerTimeout {
				delete(c.leaseSent, s) // never acknowledged
			}
		}
	}
	if !c.idle() {
		c.idleTicks = 0
		return
	}
	c.idleTicks++
	if c.idleTicks >= idleTicksToQuiesce {
		// After this tick's heartbeats, which process sends first.
		c.quiesceDue = true
	}
}

// idle reports whether the leader has nothing to do: every entry is
// committed and applied, every follower holds all of them, nothing waits.
func (c *peerCore) idle() bool {
	if !c.termCommitted || len(c.proposals) > 0 || len(c.pendingReads) > 0 || len(c.waitingReads) > 0 ||
		len(c.confState.VotersOutgoing) > 0 || len(c.pendingConf) > 0 || len(c.confWaiting) > 0 {
		return false
	}
	bs := c.rn.BasicStatus()
	last, _ := c.store.LastIndex()
	if bs.LeadTransferee != 0 || bs.Commit != last || c.applied != last {
		return false
	}
	// Every follower holds the log and answered lately: a leader woken
	// because a node fell silent stays awake until its followers answer
	// (or CheckQuorum makes it step down).
	caughtUp := true
	c.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if pr.Match != last || (id != c.id && c.now.Sub(c.heard[id]) > 2*c.cfg.Tick) {
			caughtUp = false
		}
	})
	return caughtUp
}

// quiesce stops the leader's ticks and tells every other member to stop
// theirs.
func (c *peerCore) quiesce() {
	c.quiesceDue = false
	c.quiesced = true
	c.changed = true
	term := c.rn.BasicStatus().Term
	ids := slices.Concat(c.confState.Voters, c.confState.Learners)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if id == c.id {
			continue
		}
		if node, ok := c.names[id]; ok {
			c.out = append(c.out, peerOut{node: node, env: peerEnv{Ens: c.ens, Kind: envQuiesce,
				Raft: raftpb.Message{From: c.id, To: id, Term: term}}})
		}
	}
}

// wake makes a quiescent peer tick again.
func (c *peerCore) wake() {
	c.quiesceDue = false
	if c.quiesced {
		c.quiesced = false
		c.changed = true
	}
	c.idleTicks = 0
}

// step takes a message from the peer on node.
func (c *peerCore) step(node string, env peerEnv, now time.Time) {
	c.now = now
	m := env.Raft
	if m.From != 0 && m.From == nodeID(node) {
		c.names[m.From] = node // a joining peer learns its leader's node
		c.heard[m.From] = now
	}
	if env.Kind == envPiece && env.Piece != nil {
		whole, done, err := c.pieces.Add(m.From, *env.Piece)
		if err != nil {
			c.log.Warn("ensemble: bad snapshot message", "ensemble", c.ens, "from", node, "err", err)
		}
		if !done {
			return
		}
		m = whole
	}
	if env.Kind == envQuiesce {
		bs := c.rn.BasicStatus()
		if c.state == raft.StateFollower && m.Term == bs.Term && c.lead == m.From && !c.quiesced {
			c.quiesced = true
			c.changed = true
		}
		return
	}
	// A quiescent leader takes the acknowledgements of its last
	// heartbeats without waking, unless one shows a follower behind;
	// anything else wakes a peer.
	ack := c.state == raft.StateLeader && (m.Type == raftpb.MsgHeartbeatResp || m.Type == raftpb.MsgAppResp)
	if c.quiesced && !ack {
		c.wake()
	}
	if err := c.rn.Step(m); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) && !errors.Is(err, raft.ErrStepLocalMsg) {
		c.log.Debug("ensemble: step", "ensemble", c.ens, "err", err)
	}
	if c.quiesced && ack && !c.idle() {
		c.wake()
	}
}

// request serves a K/V operation on the leader; another peer answers
// errNotLeader and the shell forwards the request.
func (c *peerCore) request(from actor.From, op kvOp) any {
	if c.state != raft.StateLeader {
		return errNotLeader
	}
	c.wake()
	c.idleTicks = 0
	if op.Kind == opGet && !op.ReadRepair {
		return c.read(from, op.Key)
	}
	seq := c.nextSeq()
	data := encodeEntry(c.id, seq, op)
	if len(data) > c.cfg.maxMessage() {
		return ErrTooLarge // raft could never send it
	}
	c.proposals = append(c.proposals, raftpb.Entry{Data: data})
	c.proposalSeqs = append(c.proposalSeqs, seq)
	c.addPending(seq, from)
	return actor.NoReply
}

// read answers at once under a lease, else after a ReadIndex round.
func (c *peerCore) read(from actor.From, key string) any {
	bs := c.rn.BasicStatus()
	if c.cfg.ReadMode == LeaseRead && c.termCommitted && c.now.Before(c.leaseUntil) &&
		bs.LeadTransferee == 0 && c.applied >= bs.Commit {
		return c.get(key)
	}
	seq := c.nextSeq()
	c.pendingReads[seq] = append(c.pendingReads[seq], readReq{from: from, key: key})
	c.rn.ReadIndex(seqCtx(seq))
	return actor.NoReply
}

// proposeBatch proposes the operations accepted since the last process as
// one MsgProp; if raft drops it their callers are nacked.
func (c *peerCore) proposeBatch() {
	if len(c.proposals) == 0 {
		return
	}
	if err := c.rn.Step(raftpb.Message{Type: raftpb.MsgProp, From: c.id, Entries: c.proposals}); err != nil {
		for _, seq := range c.proposalSeqs {
			if from, ok := c.pending.Take(seq); ok {
				c.replies = append(c.replies, reply{from, ErrTimeout})
			}
		}
	}
	c.proposals = nil // raft may keep the slice
	c.proposalSeqs = c.proposalSeqs[:0]
}

func (c *peerCore) addPending(seq uint64, from actor.From) { c.pending.Add(seq, from) }

// updateMembers changes the ensemble's members with one ConfChangeV2:
// several changes go through a joint configuration that raft leaves on
// its own; the caller is answered once the joint configuration is left.
func (c *peerCore) updateMembers(from actor.From, add, del []string) any {
	if c.state != raft.StateLeader {
		return errNotLeader
	}
	if !c.termCommitted {
		// A leader just elected, whose configuration is not known final
		// until an entry of its term is applied: the change waits for it
		// (a caller that found the leader at once is not turned away).
		if len(c.confQueued) >= maxQueuedConf {
			return ErrTimeout
		}
		c.confQueued = append(c.confQueued, confRouted{From: from, Add: add, Del: del})
		return actor.NoReply
	}
	if len(c.confState.VotersOutgoing) > 0 || len(c.pendingConf) > 0 || len(c.confWaiting) > 0 {
		return ErrTimeout // a change is under way: a nack, try again
	}
	c.wake()
	var cc raftpb.ConfChangeV2
	seq := c.nextSeq()
	ctx := appendUvarints(nil, c.id, seq)
	for _, n := range add {
		if slices.Contains(c.confState.Voters, nodeID(n)) {
			return ErrAlreadyMember
		}
		cc.Changes = append(cc.Changes, raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddNode, NodeID: nodeID(n)})
		ctx = appendString(ctx, n)
	}
	for _, n := range del {
		if !slices.Contains(c.confState.Voters, nodeID(n)) {
			return ErrNotMember
		}
		cc.Changes = append(cc.Changes, raftpb.ConfChangeSingle{Type: raftpb.ConfChangeRemoveNode, NodeID: nodeID(n)})
	}
	if len(cc.Changes) == 0 {
		return okReply{OK: true}
	}
	cc.Context = ctx
	if err := c.rn.ProposeConfChange(cc); err != nil {
		return ErrTimeout
	}
	c.pendingConf[seq] = from
	return actor.NoReply
}

// maxQueuedConf bounds the membership changes a new leader holds until
// its term's first entry is applied.
const maxQueuedConf = 16

// proposeQueuedConf proposes the changes held until the leader's term had
// an entry applied (in order: the first goes on, a later one finds it
// under way and is nacked, as it would have been had it come later).
func (c *peerCore) proposeQueuedConf() {
	if !c.termCommitted || len(c.confQueued) == 0 {
		return
	}
	queued := c.confQueued
	c.confQueued = nil
	for _, r := range queued {
		switch ret := c.updateMembers(r.From, r.Add, r.Del); ret {
		case actor.NoReply:
		case errNotLeader:
			c.replies = append(c.replies, reply{r.From, ErrTimeout})
		default:
			c.replies = append(c.replies, reply{r.From, ret})
		}
	}
}

// status is what this peer knows of its ensemble.
func (c *peerCore) status() PeerStatus {
	cur, old := c.members()
	bs := c.rn.BasicStatus()
	st := PeerStatus{
		Ensemble: c.ens, Node: c.node, Leader: c.leaderNode(),
		Term: bs.Term, Members: cur, OldMembers: old,
		Quiescent: c.quiesced, Applied: c.applied, Commit: bs.Commit,
	}
	switch c.state {
	case raft.StateLeader:
		st.State = "leader"
		st.Followers = c.followers()
	case raft.StateCandidate, raft.StatePreCandidate:
		st.State = "candidate"
	default:
		st.State = "follower"
	}
	return st
}

// followers is, on the leader, every other voter's progress (both sides of
// a joint configuration), sorted by node.
func (c *peerCore) followers() []FollowerProgress {
	last, _ := c.store.LastIndex()
	var out []FollowerProgress
	c.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if id == c.id || pr.IsLearner {
			return
		}
		f := FollowerProgress{Node: c.names[id], Match: pr.Match}
		if last > pr.Match {
			f.Lag = last - pr.Match
		}
		out = append(out, f)
	})
	slices.SortFunc(out, func(a, b FollowerProgress) int { return strings.Compare(a.Node, b.Node) })
	return out
}
