package rafted

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/pending"
	"github.com/gotp-dev/gotp/internal/raftchunk"
	"github.com/gotp-dev/gotp/remote/transport"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// core is one member's protocol state: etcd raft's RawNode, its storage,
// the replicated value and the callers waiting for answers. It does no
// messaging and reads no clock of its own; the member process feeds it
// messages, ticks and the time, and carries out what it leaves in out and
// replies.
type core struct {
	id      uint64
	self    memberAddr
	log     *slog.Logger
	rn      *raft.RawNode
	store   logStore
	disk    *disk
	data    Data
	newData func() Data
	hook    LeaderHook
	cfg     Config

	members   map[uint64]memberAddr // latest known address of each member
	confState raftpb.ConfState
	results   *resultCache
	applied   uint64
	snapIndex uint64

	lead          uint64
	state         raft.StateType
	termCommitted bool // as leader: an entry of its term has been applied
	confInFlight  bool // as leader: a membership change is proposed, not applied
	removed       bool // this member applied its own removal
	// confChanged: a membership change was applied since the last
	// snapshot. A snapshot sent to a member must list it, or the member
	// rejects it, so one is taken at once.
	confChanged bool

	seq          uint64
	proposals    []raftpb.Entry // commands accepted since the last process, proposed there as one batch
	proposalSeqs []uint64       // their sequence numbers
	pendingCmds  pending.Callers
	pendingConf  map[uint64]actor.From
	pendingReads map[uint64][]readReq
	waitingReads []readReq
	leaseSent    map[uint64]leaseProbe
	lastHeard    map[uint64]time.Time
	leaseUntil   time.Time
	now          time.Time

	// A member grants no vote and asks for none, except as or for a
	// leadership transfer's candidate, within voteGuard of hearing from a
	// leader or of starting: a leader's lease counts on it (see lease). A
	// restarted member has forgotten the leader it heard, so it waits a
	// whole voteGuard from its start.
	voteGuard     time.Duration // the longest election timeout applied since the member started
	voteAfter     time.Time     // start + voteGuard
	leaderContact time.Time     // when a leader's message last arrived
	cfgIndex      uint64        // index of the entry or snapshot that set cfg

	joinWaiters []actor.From // callers waiting for this member to be in the group

	maxMsg int                // bytes of entries or snapshot a message to a peer may carry
	chunks raftchunk.Gatherer // snapshot messages arriving in pieces, by sender

	out     []outbound
	replies []reply
	snapTo  []uint64
}

// logStore is the in-memory log raft reads: raft.MemoryStorage, behind an
// interface so that tests can make it fail.
type logStore interface {
	raft.Storage
	ApplySnapshot(snap raftpb.Snapshot) error
	Append(ents []raftpb.Entry) error
	SetHardState(st raftpb.HardState) error
	CreateSnapshot(i uint64, cs *raftpb.ConfState, data []byte) (raftpb.Snapshot, error)
	Compact(compactIndex uint64) error
}

var _ logStore = (*raft.MemoryStorage)(nil)

// leaseProbe is a ReadIndex the leader sent to renew its lease: when, and
// the lease its config allowed then.
type leaseProbe struct {
	sent  time.Time
	lease time.Duration
}

type outbound struct {
	to    memberAddr
	id    uint64
	msg   raftpb.Message
	chunk *snapChunk // instead of msg: a piece of a large snapshot message
}

type reply struct {
	to    actor.From
	value any
}

type readReq struct {
	from  actor.From
	arg   any
	index uint64
}

// maxPendingCommands bounds the callers a member remembers: a proposal lost
// in a leader change is never applied, and its caller gives up on its own.
const maxPendingCommands = 1 << 14

type coreInit struct {
	self    memberAddr
	id      uint64
	create  *Config
	disk    *disk
	stored  diskState
	newData func() Data
	hook    LeaderHook
	log     *slog.Logger
	now     time.Time // when the member starts
	maxMsg  int       // Options.maxMessage (0: the default frame's)
	maxSnap int       // Options.MaxSnapshotSize (0: raftchunk's default)
	// groupConfig is the config a joining member starts with (learned from
	// the group before it joins).
	groupConfig Config
}

func newCore(in coreInit) (*core, error) {
	c := &core{
		id:           in.id,
		self:         in.self,
		log:          in.log,
		store:        raft.NewMemoryStorage(),
		disk:         in.disk,
		newData:      in.newData,
		data:         in.newData(),
		hook:         in.hook,
		members:      map[uint64]memberAddr{in.id: in.self},
		pendingCmds:  pending.Callers{Limit: maxPendingCommands},
		pendingConf:  make(map[uint64]actor.From),
		pendingReads: make(map[uint64][]readReq),
		leaseSent:    make(map[uint64]leaseProbe),
		lastHeard:    make(map[uint64]time.Time),
		now:          in.now,
		maxMsg:       in.maxMsg,
	}
	if c.maxMsg <= 0 {
		c.maxMsg = transport.DefaultMaxFrameSize - frameHeadroom
	}
	c.chunks.Max = in.maxSnap
	cfg := in.groupConfig.withDefaults()
	if in.create != nil {
		cfg = in.create.withDefaults()
	}
	c.results = newResultCache(cfg.MaxRetainedCommandResults)
	c.setConfig(cfg, 0)
	restored := in.stored.Found
	if restored {
		st := in.stored
		if !raft.IsEmptySnap(st.Snap) {
			if err := c.store.ApplySnapshot(st.Snap); err != nil {
				return nil, err
			}
			if err := c.restore(st.Snap); err != nil {
				return nil, err
			}
		}
		if err := c.store.Append(st.Ents); err != nil {
			return nil, err
		}
		if err := c.store.SetHardState(st.Hard); err != nil {
			return nil, err
		}
		c.members[c.id] = c.self
	}
	rc := &raft.Config{
		ID:                        c.id,
		ElectionTick:              c.cfg.electionTicks(),
		HeartbeatTick:             1,
		Storage:                   c.store,
		Applied:                   c.applied,
		MaxSizePerMsg:             uint64(min(c.maxMsg, 1<<20)),
		MaxInflightMsgs:           256,
		CheckQuorum:               true,
		PreVote:                   true,
		DisableProposalForwarding: true,
		Logger:                    raftLogger{c.log},
	}
	rn, err := raft.NewRawNode(rc)
	if err != nil {
		return nil, err
	}
	c.rn = rn
	if in.create != nil && !restored {
		cfg := c.cfg
		ctx := encodeConfContext(confContext{addr: c.self, config: &cfg})
		if err := rn.Bootstrap([]raft.Peer{{ID: c.id, Context: ctx}}); err != nil {
			return nil, err
		}
		if err := c.process(); err != nil {
			return nil, err
		}
		if err := rn.Campaign(); err != nil {
			return nil, err
		}
	}
	if err := c.process(); err != nil {
		return nil, err
	}
	// After the replay: voteGuard is the longest timeout in the log.
	c.voteAfter = in.now.Add(c.voteGuard)
	if restored && c.hook != nil {
		c.hook.OnRestoredFromFiles(c.data)
	}
	return c, nil
}

// process handles every Ready raft has: persist, send, apply, advance.
func (c *core) process() error {
	c.proposeBatch()
	for c.rn.HasReady() {
		rd := c.rn.Ready()
		if rd.SoftState != nil {
			c.softState(*rd.SoftState)
		}
		var snap *raftpb.Snapshot
		if !raft.IsEmptySnap(rd.Snapshot) {
			snap = &rd.Snapshot
			if err := c.store.ApplySnapshot(rd.Snapshot); err != nil {
				return err
			}
		}
		if c.disk != nil {
			if err := c.disk.Save(rd.HardState, rd.Entries, snap); err != nil {
				return fmt.Errorf("rafted: persist: %w", err)
			}
		}
		if err := c.store.Append(rd.Entries); err != nil {
			return err
		}
		if !raft.IsEmptyHardState(rd.HardState) {
			if err := c.store.SetHardState(rd.HardState); err != nil {
				return err
			}
		}
		for _, m := range rd.Messages {
			c.sendRaft(m)
		}
		if snap != nil {
			if err := c.restore(*snap); err != nil {
				return err
			}
		}
		for _, e := range rd.CommittedEntries {
			if err := c.apply(e); err != nil {
				return err
			}
		}
		for _, rs := range rd.ReadStates {
			c.readState(rs)
		}
		c.rn.Advance(rd)
		for _, id := range c.snapTo {
			c.rn.ReportSnapshot(id, raft.SnapshotFinish)
		}
		c.snapTo = c.snapTo[:0]
		c.serveReads()
		if len(c.joinWaiters) > 0 && c.isVoter(c.id) {
			for _, w := range c.joinWaiters {
				c.replies = append(c.replies, reply{w, okReply{OK: true}})
			}
			c.joinWaiters = nil
		}
		if err := c.maybeSnapshot(); err != nil {
			return err
		}
	}
	return nil
}

func (c *core) sendRaft(m raftpb.Message) {
	if m.To == c.id {
		return
	}
	if isVoteRequest(m) && c.voteGuarded() {
		return // see voteGuarded; raft stands again at its next timeout
	}
	a, ok := c.members[m.To]
	if !ok {
		c.rn.ReportUnreachable(m.To)
		return
	}
	if m.Type == raftpb.MsgSnap {
		c.snapTo = append(c.snapTo, m.To)
		if m.Size() > c.maxMsg {
			c.sendChunks(a, m)
			return
		}
	}
	c.out = append(c.out, outbound{to: a, id: m.To, msg: m})
}

// sendChunks sends a snapshot message too large for a frame in pieces.
func (c *core) sendChunks(a memberAddr, m raftpb.Message) {
	pieces, err := raftchunk.Split(m, c.maxMsg)
	if err != nil {
		c.log.Error("rafted: encode snapshot message", "err", err)
		return
	}
	for _, p := range pieces {
		c.out = append(c.out, outbound{to: a, id: m.To, chunk: &snapChunk{From: c.self, FromID: c.id, Piece: p}})
	}
}

// stepChunk gathers a piece of a snapshot message and steps the message
// once it is whole.
func (c *core) stepChunk(ch snapChunk) {
	m, done, err := c.chunks.Add(ch.FromID, ch.Piece)
	if err != nil {
		c.log.Warn("rafted: bad snapshot message", "err", err)
	}
	if done {
		c.step(ch.From, m)
	}
}

func (c *core) softState(ss raft.SoftState) {
	wasLeader := c.state == raft.StateLeader
	c.lead, c.state = ss.Lead, ss.RaftState
	isLeader := c.state == raft.StateLeader
	if wasLeader == isLeader {
		return
	}
	c.termCommitted, c.confInFlight = false, false
	c.leaseUntil = time.Time{}
	clear(c.leaseSent)
	// Reads cannot be confirmed any more; they have no effect, so the
	// caller may safely retry at the new leader.
	notLeader := NotLeaderError{}
	for seq, rs := range c.pendingReads {
		for _, r := range rs {
			c.replies = append(c.replies, reply{r.from, notLeader})
		}
		delete(c.pendingReads, seq)
	}
	for _, r := range c.waitingReads {
		c.replies = append(c.replies, reply{r.from, notLeader})
	}
	c.waitingReads = nil
	// A membership change may or may not be applied; its caller times out.
	clear(c.pendingConf)
	if isLeader && c.hook != nil {
		c.hook.OnElected(c.data)
	}
}

// restore replaces the replicated state with a snapshot's.
func (c *core) restore(snap raftpb.Snapshot) error {
	r, err := decodeSnapshot(snap.Data, 0)
	if err != nil {
		return fmt.Errorf("rafted: snapshot: %w", err)
	}
	d := c.newData()
	if err := d.Restore(r.data); err != nil {
		return fmt.Errorf("rafted: restore value: %w", err)
	}
	c.data, c.results = d, r.results
	c.setConfig(r.config, snap.Metadata.Index)
	for id, a := range r.members {
		if id != c.id {
			c.members[id] = a
		}
	}
	c.applied, c.snapIndex = snap.Metadata.Index, snap.Metadata.Index
	c.confState = snap.Metadata.ConfState
	return nil
}

func (c *core) apply(e raftpb.Entry) error {
	if e.Index <= c.applied {
		return nil
	}
	c.applied = e.Index
	if c.state == raft.StateLeader && e.Term == c.rn.BasicStatus().Term {
		c.termCommitted = true
	}
	switch e.Type {
	case raftpb.EntryConfChange:
		var cc raftpb.ConfChange
		if err := cc.Unmarshal(e.Data); err != nil {
			return err
		}
		c.applyConfChange(cc, e.Index)
		return nil
	case raftpb.EntryConfChangeV2:
		var cc raftpb.ConfChangeV2
		if err := cc.Unmarshal(e.Data); err != nil {
			return err
		}
		c.confState = *c.rn.ApplyConfChange(cc)
		return nil
	}
	if len(e.Data) == 0 {
		return nil // a new leader's empty entry
	}
	o, err := decodeOp(e.Data)
	if err != nil {
		return err
	}
	var result any
	switch o.kind {
	case opCommand:
		result = c.applyCommand(o)
	case opConfig:
		cfg, _, ok := readConfig(o.payload)
		if !ok {
			return errBadEntry
		}
		c.setConfig(cfg, e.Index)
		result = okReply{OK: true}
	case opAddress:
		id, rest, ok := readUvarint(o.payload)
		if !ok {
			return errBadEntry
		}
		addr, _, ok := readAddr(rest)
		if !ok {
			return errBadEntry
		}
		if _, member := c.members[id]; member && id != c.id {
			c.members[id] = addr
		}
		return nil
	default:
		return fmt.Errorf("rafted: log entry of kind %d", o.kind)
	}
	if o.proposer == c.id {
		if from, ok := c.pendingCmds.Take(o.seq); ok {
			c.replies = append(c.replies, reply{from, result})
		}
	}
	return nil
}

func (c *core) applyCommand(o op) any {
	if o.id != "" {
		if ret, ok := c.results.get(o.id); ok {
			return ret
		}
	}
	arg, err := decodeValue(o.payload)
	if err != nil {
		// Every member fails alike, so the value stays the same everywhere.
		c.log.Error("rafted: undecodable command", "err", err)
		return err
	}
	ret := c.runCommand(arg)
	if o.id != "" {
		c.results.put(o.id, ret)
	}
	if c.state == raft.StateLeader && c.hook != nil {
		c.hook.OnCommandCommitted(c.data, arg, ret)
	}
	return ret
}

// setConfig makes cfg the member's config, set by the entry (or snapshot)
// at index. The lease ends: the next one is renewed under the new config.
func (c *core) setConfig(cfg Config, index uint64) {
	c.cfg, c.cfgIndex = cfg, index
	c.results.setLimit(cfg.MaxRetainedCommandResults)
	c.voteGuard = max(c.voteGuard, cfg.ElectionTimeout)
	c.leaseUntil = time.Time{}
}

// runCommand applies one command to the value. A panic in Data.Command
// becomes the command's result: the member survives, and so does every
// other member, which recovers the same panic on the same entry (also when
// it replays its log after a restart).
func (c *core) runCommand(arg any) (ret any) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("rafted: command panicked", "panic", fmt.Sprint(r))
			ret = fmt.Errorf("%w: %v", ErrCommandPanicked, r)
		}
	}()
	return c.data.Command(arg)
}

func (c *core) applyConfChange(cc raftpb.ConfChange, index uint64) {
	c.confState = *c.rn.ApplyConfChange(cc)
	c.confInFlight = false
	c.confChanged = true
	var ctx confContext
	if len(cc.Context) > 0 {
		var err error
		if ctx, err = decodeConfContext(cc.Context); err != nil {
			c.log.Error("rafted: bad membership context", "err", err)
		}
	}
	leader := c.state == raft.StateLeader
	switch cc.Type {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		if cc.NodeID != c.id && ctx.addr != (memberAddr{}) {
			if _, known := c.members[cc.NodeID]; !known || ctx.proposer != 0 {
				c.members[cc.NodeID] = ctx.addr
			}
		}
		if ctx.config != nil {
			c.setConfig(*ctx.config, index)
		}
		// A member joins as a learner, then becomes a voter: it is a
		// follower once it votes.
		if leader && c.hook != nil && cc.NodeID != c.id && cc.Type == raftpb.ConfChangeAddNode {
			c.hook.OnFollowerAdded(c.data, c.members[cc.NodeID].PID)
		}
	case raftpb.ConfChangeRemoveNode:
		a := c.members[cc.NodeID]
		delete(c.members, cc.NodeID)
		if cc.NodeID == c.id {
			c.removed = true
		}
		if leader && c.hook != nil {
			c.hook.OnFollowerRemoved(c.data, a.PID)
		}
	}
	if ctx.proposer == c.id && ctx.proposer != 0 {
		if from, ok := c.pendingConf[ctx.seq]; ok {
			delete(c.pendingConf, ctx.seq)
			c.replies = append(c.replies, reply{from, okReply{OK: true}})
		}
	}
}

func (c *core) readState(rs raft.ReadState) {
	if len(rs.RequestCtx) != 8 {
		return
	}
	seq := binary.BigEndian.Uint64(rs.RequestCtx)
	if probe, ok := c.leaseSent[seq]; ok {
		delete(c.leaseSent, seq)
		if until := probe.sent.Add(min(probe.lease, c.cfg.lease())); until.After(c.leaseUntil) {
			c.leaseUntil = until
		}
		return
	}
	for _, r := range c.pendingReads[seq] {
		r.index = rs.Index
		c.waitingReads = append(c.waitingReads, r)
	}
	delete(c.pendingReads, seq)
}

func (c *core) serveReads() {
	kept := c.waitingReads[:0]
	for _, r := range c.waitingReads {
		if r.index > c.applied {
			kept = append(kept, r)
			continue
		}
		c.replies = append(c.replies, reply{r.from, c.query(r.arg)})
	}
	clear(c.waitingReads[len(kept):])
	c.waitingReads = kept
}

func (c *core) query(arg any) any {
	ret := c.data.Query(arg)
	if c.hook != nil && c.state == raft.StateLeader {
		c.hook.OnQueryAnswered(c.data, arg, ret)
	}
	return ret
}

// maybeSnapshot takes a snapshot once MaxRetainedCommittedLogs entries have
// been applied since the last one, and drops entries older than that many
// behind it.
func (c *core) maybeSnapshot() error {
	retain := uint64(c.cfg.MaxRetainedCommittedLogs)
	if c.applied < c.snapIndex+max(retain, 1) && !(c.confChanged && c.applied > c.snapIndex) {
		return nil
	}
	return c.snapshot()
}

func (c *core) snapshot() error {
	data, err := c.snapshotData()
	if err != nil {
		c.log.Error("rafted: snapshot", "err", err)
		return nil // keep the log; try again later
	}
	snap, err := c.store.CreateSnapshot(c.applied, &c.confState, data)
	outOfDate := errors.Is(err, raft.ErrSnapOutOfDate)
	switch {
	case outOfDate:
		if snap, err = c.store.Snapshot(); err != nil {
			return fmt.Errorf("rafted: read snapshot: %w", err)
		}
		snap.Metadata.ConfState = c.confState
		snap.Data = data
	case err != nil:
		return fmt.Errorf("rafted: create snapshot: %w", err)
	default:
		c.confChanged = false
	}
	c.snapIndex = c.applied
	retain := uint64(c.cfg.MaxRetainedCommittedLogs)
	first, err := c.store.FirstIndex()
	if err != nil {
		return fmt.Errorf("rafted: first index: %w", err)
	}
	if c.applied > retain && c.applied-retain > first {
		if err := c.store.Compact(c.applied - retain); err != nil && !errors.Is(err, raft.ErrCompacted) {
			return fmt.Errorf("rafted: compact: %w", err)
		}
	}
	if c.disk == nil {
		return nil
	}
	if err := c.disk.Snapshotted(c.store, snap); err != nil {
		return fmt.Errorf("rafted: %w", err)
	}
	return nil
}

func (c *core) snapshotData() ([]byte, error) {
	data, err := c.data.Snapshot()
	if err != nil {
		return nil, err
	}
	return encodeSnapshot(replicated{config: c.cfg, members: c.members, results: c.results, data: data})
}

// addressOf finds a member's (a voter's or a learner's) raft ID by its
// latest known PID or by its registered name. A name without a node must
// be unique in the group.
func (c *core) addressOf(ref memberRef) (uint64, bool) {
	var found uint64
	matches := 0
	for id, a := range c.members {
		if !c.isVoter(id) && !c.isLearner(id) {
			continue
		}
		switch {
		case !ref.PID.IsZero():
			if a.PID == ref.PID {
				return id, true
			}
		case ref.Name.Name != "" && a.Name.Name == ref.Name.Name &&
			(ref.Name.Node == "" || a.Name.Node == ref.Name.Node):
			found = id
			matches++
		}
	}
	return found, matches == 1
}

func (c *core) isLearner(id uint64) bool {
	for _, v := range c.confState.Learners {
		if v == id {
			return true
		}
	}
	return false
}

func (c *core) isVoter(id uint64) bool {
	for _, v := range c.confState.Voters {
		if v == id {
			return true
		}
	}
	return false
}

func (c *core) leaderPID() actor.PID {
	if c.lead == 0 {
		return actor.PID{}
	}
	return c.members[c.lead].PID
}

// notLeader is the error for a request this member cannot serve as leader.
// A leader handing over names the member it hands over to; a leader that
// refuses for another reason names none, so that no client is sent back
// to it.
func (c *core) notLeader() error {
	if c.state == raft.StateLeader {
		if t := c.rn.BasicStatus().LeadTransferee; t != 0 {
			return NotLeaderError{Leader: c.members[t].PID}
		}
		return NotLeaderError{}
	}
	return NotLeaderError{Leader: c.leaderPID()}
}

func (c *core) nextSeq() uint64 {
	c.seq++
	return c.seq
}

func seqCtx(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// raftLogger sends etcd raft's logs to slog at debug level (warnings and
// errors at their own).
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) Debug(v ...any)              { r.l.Debug(fmt.Sprint(v...)) }
func (r raftLogger) Debugf(f string, v ...any)   { r.l.Debug(fmt.Sprintf(f, v...)) }
func (r raftLogger) Info(v ...any)               { r.l.Debug(fmt.Sprint(v...)) }
func (r raftLogger) Infof(f string, v ...any)    { r.l.Debug(fmt.Sprintf(f, v...)) }
func (r raftLogger) Warning(v ...any)            { r.l.Warn(fmt.Sprint(v...)) }
func (r raftLogger) Warningf(f string, v ...any) { r.l.Warn(fmt.Sprintf(f, v...)) }
func (r raftLogger) Error(v ...any)              { r.l.Error(fmt.Sprint(v...)) }
func (r raftLogger) Errorf(f string, v ...any)   { r.l.Error(fmt.Sprintf(f, v...)) }
func (r raftLogger) Fatal(v ...any)              { panic(fmt.Sprint(v...)) }
func (r raftLogger) Fatalf(f string, v ...any)   { panic(fmt.Sprintf(f, v...)) }
func (r raftLogger) Panic(v ...any)              { panic(fmt.Sprint(v...)) }
func (r raftLogger) Panicf(f string, v ...any)   { panic(fmt.Sprintf(f, v...)) }
