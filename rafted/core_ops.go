package rafted

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

// The core's inputs. Each returns the immediate answer to the caller, or
// actor.NoReply when the answer comes later through c.replies; the caller
// runs process() afterwards.

func (c *core) tick(now time.Time) {
	c.now = now
	c.rn.Tick()
	if c.state == raft.StateLeader && c.cfg.lease() > 0 && c.rn.BasicStatus().LeadTransferee == 0 && c.votersHaveConfig() {
		// Renew the lease: a majority acknowledging this ReadIndex's
		// heartbeat proves no other leader can be elected until
		// now + lease.
		seq := c.nextSeq()
		c.leaseSent[seq] = leaseProbe{sent: now, lease: c.cfg.lease()}
		c.rn.ReadIndex(seqCtx(seq))
		for s, p := range c.leaseSent {
			if now.Sub(p.sent) > c.cfg.ElectionTimeout {
				delete(c.leaseSent, s)
			}
		}
	}
}

// votersHaveConfig reports whether every voter holds the entry that set
// the leader's config. A follower that acknowledges a heartbeat has applied
// what the heartbeat told it is committed, so then every member in the
// acknowledging majority guards its vote with at least this config's
// election timeout; a follower still on an older config might guard it
// with a shorter one.
func (c *core) votersHaveConfig() bool {
	if unguarded.Load() {
		return true
	}
	ok := true
	c.rn.WithProgress(func(id uint64, typ raft.ProgressType, pr tracker.Progress) {
		if typ == raft.ProgressTypePeer && pr.Match < c.cfgIndex {
			ok = false
		}
	})
	return ok
}

// campaignTransfer is the context etcd raft gives the vote requests of a
// leadership transfer's candidate.
var campaignTransfer = []byte("CampaignTransfer")

// unguarded, which only tests set, turns off what keeps a lease safe across
// a member's restart and a config change: the vote guard, and the wait for
// every voter to hold the leader's config before a lease is renewed under
// it. The linearizability suite sets it to show that its faults reach the
// stale reads these prevent.
var unguarded atomic.Bool

// refusesVote reports whether a vote request m must go unanswered: within
// voteGuard of a leader's last message or of this member's start, only a
// leadership transfer's candidate may be elected.
func (c *core) refusesVote(m raftpb.Message) bool {
	return isVoteRequest(m) && c.voteGuarded()
}

// isVoteRequest reports whether m asks for a vote (or a pre-vote) other than
// for a leadership transfer's candidate.
func isVoteRequest(m raftpb.Message) bool {
	return (m.Type == raftpb.MsgVote || m.Type == raftpb.MsgPreVote) && !bytes.Equal(m.Context, campaignTransfer)
}

// voteGuarded reports whether this member is within voteGuard of a leader's
// last message or of its start. Then it neither grants a vote nor asks for
// one: its own vote counts as much as another's, and raft's election timer,
// counted in ticks of the config the member started with, may run out
// sooner than voteGuard.
func (c *core) voteGuarded() bool {
	if unguarded.Load() {
		return false
	}
	return c.now.Before(c.voteAfter) ||
		(!c.leaderContact.IsZero() && c.now.Before(c.leaderContact.Add(c.voteGuard)))
}

func (c *core) step(from memberAddr, m raftpb.Message) {
	if m.From != 0 && m.From != c.id && from != (memberAddr{}) {
		old, known := c.members[m.From]
		c.members[m.From] = from
		c.lastHeard[m.From] = c.now
		if known && old.PID != from.PID && c.state == raft.StateLeader {
			c.proposeAddress(m.From, from)
		}
	}
	if c.refusesVote(m) {
		return
	}
	switch m.Type {
	case raftpb.MsgApp, raftpb.MsgHeartbeat, raftpb.MsgSnap:
		if m.Term >= c.rn.BasicStatus().Term {
			c.leaderContact = c.now
		}
	}
	if err := c.rn.Step(m); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) && !errors.Is(err, raft.ErrStepLocalMsg) {
		c.log.Debug("rafted: step", "err", err)
	}
}

func (c *core) command(from actor.From, req commandReq) any {
	if c.state != raft.StateLeader {
		return c.notLeader()
	}
	if req.ID != "" {
		if ret, ok := c.results.get(req.ID); ok {
			return ret
		}
	}
	seq := c.nextSeq()
	data := encodeOp(op{kind: opCommand, proposer: c.id, seq: seq, id: req.ID, payload: req.Arg})
	if len(data) > c.maxMsg {
		return fmt.Errorf("%w: entry of %d bytes, a message to a peer carries %d", ErrCommandTooLarge, len(data), c.maxMsg)
	}
	// Proposed by the next process, with every other command accepted
	// until then: one append (and one MsgApp per follower) for the batch.
	c.proposals = append(c.proposals, raftpb.Entry{Data: data})
	c.proposalSeqs = append(c.proposalSeqs, seq)
	c.addPending(seq, from)
	return actor.NoReply
}

// proposeBatch proposes the commands accepted since the last call as one
// MsgProp. If raft drops it (this member is no longer leader, or a
// leadership transfer is under way), their callers get NotLeaderError.
func (c *core) proposeBatch() {
	if len(c.proposals) == 0 {
		return
	}
	err := c.rn.Step(raftpb.Message{Type: raftpb.MsgProp, From: c.id, Entries: c.proposals})
	if err != nil {
		notLeader := c.notLeader()
		for _, seq := range c.proposalSeqs {
			if from, ok := c.pendingCmds.Take(seq); ok {
				c.replies = append(c.replies, reply{from, notLeader})
			}
		}
	}
	// raft may keep the slice as its unstable log: start a new one.
	c.proposals = nil
	c.proposalSeqs = c.proposalSeqs[:0]
}

// proposeAddress tells the group, through the log, that member id is now
// at addr (it restarted under a new PID): the other followers hear only
// from the leader, so they learn it from the entry.
func (c *core) proposeAddress(id uint64, addr memberAddr) {
	payload := appendAddr(binary.AppendUvarint(nil, id), addr)
	seq := c.nextSeq()
	c.proposals = append(c.proposals, raftpb.Entry{Data: encodeOp(op{kind: opAddress, proposer: c.id, seq: seq, payload: payload})})
	c.proposalSeqs = append(c.proposalSeqs, seq)
}

func (c *core) addPending(seq uint64, from actor.From) { c.pendingCmds.Add(seq, from) }

func (c *core) queryReq(from actor.From, req queryReq, now time.Time) any {
	if c.state != raft.StateLeader {
		return c.notLeader()
	}
	arg, err := decodeValue(req.Arg)
	if err != nil {
		return err
	}
	if c.cfg.lease() > 0 && c.termCommitted && now.Before(c.leaseUntil) &&
		c.rn.BasicStatus().LeadTransferee == 0 && c.applied >= c.rn.BasicStatus().Commit {
		return c.query(arg)
	}
	seq := c.nextSeq()
	c.pendingReads[seq] = append(c.pendingReads[seq], readReq{from: from, arg: arg})
	c.rn.ReadIndex(seqCtx(seq))
	return actor.NoReply
}

func (c *core) changeConfig(from actor.From, req changeConfigReq) any {
	if c.state != raft.StateLeader {
		return c.notLeader()
	}
	cfg := req.Config.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	seq := c.nextSeq()
	data := encodeOp(op{kind: opConfig, proposer: c.id, seq: seq, payload: appendConfig(nil, cfg)})
	if err := c.rn.Propose(data); err != nil {
		return c.notLeader()
	}
	c.addPending(seq, from)
	return actor.NoReply
}

// membershipReady is the check every membership change starts with.
func (c *core) membershipReady() error {
	if c.state != raft.StateLeader {
		return c.notLeader()
	}
	if !c.termCommitted || c.confInFlight {
		return ErrUncommittedMembershipChange
	}
	return nil
}

func (c *core) proposeConf(from actor.From, cc raftpb.ConfChange, addr memberAddr) any {
	seq := c.nextSeq()
	cc.Context = encodeConfContext(confContext{proposer: c.id, seq: seq, addr: addr})
	if err := c.rn.ProposeConfChange(cc); err != nil {
		return c.notLeader()
	}
	c.confInFlight = true
	c.pendingConf[seq] = from
	return actor.NoReply
}

// join adds a member in two steps: first as a learner, which receives the
// log but does not count in any majority, then, once it has caught up, as
// a voter. A member that fails to join is only ever a learner, which its
// joining process removes again (and the group never waits for it).
func (c *core) join(from actor.From, req joinReq) any {
	if err := c.membershipReady(); err != nil {
		return err
	}
	if c.isVoter(req.ID) {
		c.members[req.ID] = req.Addr
		return okReply{OK: true}
	}
	if !req.Promote {
		if c.isLearner(req.ID) {
			c.members[req.ID] = req.Addr
			return okReply{OK: true}
		}
		return c.proposeConf(from, raftpb.ConfChange{Type: raftpb.ConfChangeAddLearnerNode, NodeID: req.ID}, req.Addr)
	}
	if !c.isLearner(req.ID) {
		return ErrNotMember
	}
	st := c.rn.Status()
	if st.Progress[req.ID].Match < st.Commit {
		return errCatchingUp
	}
	return c.proposeConf(from, raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeID: req.ID}, req.Addr)
}

func (c *core) removeFollower(from actor.From, ref memberRef) any {
	if err := c.membershipReady(); err != nil {
		return err
	}
	id, ok := c.addressOf(ref)
	if !ok {
		return ErrNotMember
	}
	st := c.rn.Status()
	if st.LeadTransferee != 0 {
		return ErrPendingLeaderChange
	}
	if id == c.id {
		return ErrCannotRemoveLeader
	}
	remaining, responsive := 0, 0
	for _, v := range c.confState.Voters {
		if v == id {
			continue
		}
		remaining++
		if v == c.id || c.responsive(v) {
			responsive++
		}
	}
	if responsive < remaining/2+1 {
		return ErrWillBreakQuorum
	}
	return c.proposeConf(from, raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeID: id}, c.members[id])
}

func (c *core) replaceLeader(ref memberRef) any {
	if ref.isZero() {
		// Cancel: etcd raft aborts a pending transfer when asked to
		// transfer to the leader itself.
		if c.state != raft.StateLeader {
			return c.notLeader()
		}
		if c.rn.BasicStatus().LeadTransferee != 0 {
			c.rn.TransferLeader(c.id)
		}
		return okReply{OK: true}
	}
	if err := c.membershipReady(); err != nil {
		return err
	}
	id, ok := c.addressOf(ref)
	if !ok || !c.isVoter(id) {
		return ErrNotMember
	}
	if id == c.id {
		return okReply{OK: true}
	}
	if !c.responsive(id) {
		return ErrNewLeaderUnresponsive
	}
	c.leaseUntil = time.Time{}
	c.rn.TransferLeader(id)
	return okReply{OK: true}
}

// forceRemove drops a member from this member's configuration without
// consensus, and persists the result in a snapshot.
func (c *core) forceRemove(ref memberRef) any {
	if c.lead != 0 {
		return ErrLeaderExists
	}
	id, ok := c.addressOf(ref)
	if !ok {
		return ErrNotMember
	}
	if id == c.id {
		return errors.New("rafted: a member cannot force-remove itself")
	}
	c.confState = *c.rn.ApplyConfChange(raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeID: id})
	delete(c.members, id)
	// The snapshot below persists the new configuration; if nothing was
	// applied since the last one, the in-memory snapshot keeps the old
	// configuration, so take another at the next applied entry.
	c.confChanged = true
	if err := c.snapshot(); err != nil {
		return err
	}
	return okReply{OK: true}
}

func (c *core) status() Status {
	bs := c.rn.BasicStatus()
	s := Status{
		From:        c.self.PID,
		Leader:      c.leaderPID(),
		CurrentTerm: bs.Term,
		Config:      c.cfg,

		CommitIndex:  bs.Commit,
		AppliedIndex: c.applied,
	}
	switch c.state {
	case raft.StateLeader:
		s.StateName = "leader"
	case raft.StateCandidate, raft.StatePreCandidate:
		s.StateName = "candidate"
	default:
		s.StateName = "follower"
	}
	for _, v := range c.confState.Voters {
		s.Members = append(s.Members, c.members[v].PID)
	}
	if c.state == raft.StateLeader {
		for _, id := range c.confState.Voters {
			if id != c.id && !c.responsive(id) {
				s.UnresponsiveFollowers = append(s.UnresponsiveFollowers, c.members[id].PID)
			}
		}
		progress := c.rn.Status().Progress
		last := progress[c.id].Match
		for _, id := range c.confState.Voters {
			if id == c.id {
				continue
			}
			pr, ok := progress[id]
			if !ok {
				continue
			}
			fp := FollowerProgress{PID: c.members[id].PID, Match: pr.Match}
			if last > pr.Match {
				fp.Lag = last - pr.Match
			}
			s.Followers = append(s.Followers, fp)
		}
		slices.SortFunc(s.Followers, func(a, b FollowerProgress) int { return strings.Compare(a.PID.String(), b.PID.String()) })
	}
	return s
}

// responsive reports whether the member was heard from within the last
// election timeout.
func (c *core) responsive(id uint64) bool {
	t, ok := c.lastHeard[id]
	return ok && c.now.Sub(t) < c.cfg.ElectionTimeout
}
