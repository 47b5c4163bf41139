package ensemble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/pending"
	"github.com/gotp-dev/gotp/internal/raftchunk"
	"github.com/gotp-dev/gotp/internal/raftlog"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// peerCore is one peer's protocol state: etcd raft's RawNode and its log,
// the backend it applies committed operations to, and the callers waiting
// for answers. It does no messaging and reads no clock: the peer process
// feeds it ticks, messages, requests and the time, and carries out what
// it leaves in out and replies (in the order they were added).
type peerCore struct {
	ens     string
	id      uint64
	node    string
	cfg     Config
	log     *slog.Logger
	rn      *raft.RawNode
	store   *raft.MemoryStorage
	backend Backend
	// disk keeps the Raft state (hard state, entries, snapshots) when the
	// node has a DataDir; nil keeps it in memory only.
	disk *raftlog.Log

	names     map[uint64]string  // raft ID → node name of every member seen
	pieces    raftchunk.Gatherer // snapshot messages arriving in pieces, by sender
	confState raftpb.ConfState
	applied   uint64
	snapIndex uint64
	// confChanged: a configuration was applied since the last snapshot,
	// which is taken at once: a peer added later can only restore a
	// snapshot whose configuration holds it, and raft sends the latest.
	confChanged bool

	lead          uint64
	term          uint64
	state         raft.StateType
	termCommitted bool // as leader: an entry of its term has been applied
	member        bool // this peer has been in a configuration it applied
	removed       bool // a member that applied a configuration without itself

	seq          uint64
	proposals    []raftpb.Entry
	proposalSeqs []uint64
	pending      pending.Callers       // by proposal seq: callers of operations
	pendingConf  map[uint64]actor.From // by seq: callers of UpdateMembers
	confWaiting  []actor.From          // callers whose change is applied, waiting for the joint configuration to end
	confQueued   []confRouted          // changes asked of a new leader before an entry of its term was applied
	pendingReads map[uint64][]readReq
	waitingReads []readReq
	leaseSent    map[uint64]time.Time
	heard        map[uint64]time.Time // when each peer's last message arrived
	leaseUntil   time.Time
	now          time.Time

	// quiesced: no ticks, no heartbeats. A leader quiesces once every
	// follower holds and has been told the whole log; a follower when its
	// leader says so. Any proposal, read or message (except the leader's
	// own late acknowledgements) wakes it, and so does the silence of a
	// node that hosts another member.
	quiesced   bool
	quiesceDue bool // quiesce once this input's messages are out
	idleTicks  int

	out     []peerOut
	replies []reply
	// changed: leader, term, members or quiescence changed since the shell
	// last looked; it tells the node's host.
	changed bool
}

// peerOut is a message for the peer of the same ensemble on another node.
type peerOut struct {
	node string
	env  peerEnv
}

type reply struct {
	to    actor.From
	value any
}

type readReq struct {
	from  actor.From
	key   string
	index uint64
}

const maxPendingOps = 1 << 14

// idleTicksToQuiesce: a leader quiesces after this many ticks with nothing
// to do and no request (so the heartbeat of the first told every follower
// the commit index, and an ensemble under steady load does not quiesce
// between two requests).
const idleTicksToQuiesce = 4

type peerInit struct {
	ens     string
	node    string
	members []string // the initial members when creating; nil when joining an existing ensemble
	cfg     Config
	backend Backend
	log     *slog.Logger
	now     time.Time
	// dir, when set, is where the peer keeps its Raft state; a peer that
	// finds its state there resumes from it.
	dir string
}

// nodeID is the Raft ID of an ensemble's peer on node: one peer per node
// per ensemble, so the node's name is its identity (FNV-1a, never zero).
func nodeID(node string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(node); i++ {
		h ^= uint64(node[i])
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}

func newPeerCore(in peerInit) (*peerCore, error) {
	c := &peerCore{
		ens:          in.ens,
		id:           nodeID(in.node),
		node:         in.node,
		cfg:          in.cfg,
		log:          in.log,
		store:        raft.NewMemoryStorage(),
		backend:      in.backend,
		names:        map[uint64]string{nodeID(in.node): in.node},
		pending:      pending.Callers{Limit: maxPendingOps},
		pendingConf:  make(map[uint64]actor.From),
		pendingReads: make(map[uint64][]readReq),
		leaseSent:    make(map[uint64]time.Time),
		heard:        make(map[uint64]time.Time),
		now:          in.now,
	}
	c.pieces.Max = in.cfg.MaxSnapshotSize
	restored, err := c.openDisk(in.dir)
	if err != nil {
		return nil, err
	}
	rc := &raft.Config{
		ID:                        c.id,
		Applied:                   c.applied,
		ElectionTick:              in.cfg.electionTicks(),
		HeartbeatTick:             1,
		Storage:                   c.store,
		MaxSizePerMsg:             uint64(min(in.cfg.maxMessage(), 1<<20)),
		MaxInflightMsgs:           256,
		CheckQuorum:               true,
		PreVote:                   true,
		DisableProposalForwarding: true,
		Logger:                    raftLogger{in.log},
	}
	rn, err := raft.NewRawNode(rc)
	if err != nil {
		c.closeDisk()
		return nil, err
	}
	c.rn = rn
	if len(in.members) > 0 && !restored {
		peers := make([]raft.Peer, 0, len(in.members))
		for _, n := range in.members {
			peers = append(peers, raft.Peer{ID: nodeID(n), Context: []byte(n)})
			c.names[nodeID(n)] = n
		}
		if err := rn.Bootstrap(peers); err != nil {
			c.closeDisk()
			return nil, err
		}
	}
	c.changed = true
	if err := c.process(); err != nil {
		c.closeDisk()
		return nil, err
	}
	if len(in.members) == 1 && !restored {
		// Alone: lead at once rather than after a follower timeout (the
		// root ensemble of a cluster just enabled). Raft campaigns only
		// once the bootstrap configuration is applied, as it now is.
		if err := rn.Campaign(); err != nil {
			c.closeDisk()
			return nil, err
		}
		if err := c.process(); err != nil {
			c.closeDisk()
			return nil, err
		}
	}
	return c, nil
}

// openDisk opens the peer's Raft state in dir (nothing without one) and
// loads what a peer that ran there before left: its snapshot (the backend
// is restored from it, or emptied when there is none, and the entries
// after it are applied again as Raft hands them back), its entries and its
// hard state. It reports whether there was such state.
func (c *peerCore) openDisk(dir string) (bool, error) {
	if dir == "" {
		return false, nil
	}
	d, st, err := raftlog.Open(dir, ErrDamagedDir)
	if err != nil {
		return false, fmt.Errorf("ensemble: %s: %w", c.ens, err)
	}
	c.disk = d
	if !st.Found {
		if err := d.Create(c.id); err != nil {
			c.closeDisk()
			return false, err
		}
		return false, nil
	}
	if st.ID != c.id {
		c.closeDisk()
		return false, fmt.Errorf("%w: %s holds member %d, not %d", ErrDamagedDir, dir, st.ID, c.id)
	}
	if raft.IsEmptySnap(st.Snap) {
		if err := c.backend.Restore(emptySnapshot()); err != nil {
			c.closeDisk()
			return false, fmt.Errorf("ensemble: restore backend: %w", err)
		}
	} else {
		if err := c.store.ApplySnapshot(st.Snap); err != nil {
			c.closeDisk()
			return false, err
		}
		if err := c.restore(st.Snap); err != nil {
			c.closeDisk()
			return false, err
		}
	}
	if err := c.store.Append(st.Ents); err != nil {
		c.closeDisk()
		return false, err
	}
	if err := c.store.SetHardState(st.Hard); err != nil {
		c.closeDisk()
		return false, err
	}
	c.term = st.Hard.Term
	return true, nil
}

func (c *peerCore) closeDisk() {
	if c.disk != nil {
		_ = c.disk.Close()
		c.disk = nil
	}
}

// process handles every Ready raft has: log, send, apply, advance.
func (c *peerCore) process() error {
	c.proposeBatch()
	for c.rn.HasReady() {
		rd := c.rn.Ready()
		if rd.SoftState != nil {
			c.softState(*rd.SoftState)
		}
		if !raft.IsEmptyHardState(rd.HardState) && rd.HardState.Term != c.term {
			c.term = rd.HardState.Term
			c.changed = true
		}
		var snap *raftpb.Snapshot
		if !raft.IsEmptySnap(rd.Snapshot) {
			snap = &rd.Snapshot
			if err := c.store.ApplySnapshot(rd.Snapshot); err != nil {
				return err
			}
			if err := c.restore(rd.Snapshot); err != nil {
				return err
			}
		}
		if c.disk != nil {
			// Before anything this Ready says is sent.
			if err := c.disk.Save(rd.HardState, rd.Entries, snap); err != nil {
				return fmt.Errorf("ensemble: persist: %w", err)
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
		for _, e := range rd.CommittedEntries {
			if err := c.apply(e); err != nil {
				return err
			}
		}
		for _, rs := range rd.ReadStates {
			c.readState(rs)
		}
		c.rn.Advance(rd)
		c.serveReads()
		c.proposeQueuedConf()
		if err := c.maybeSnapshot(); err != nil {
			return err
		}
	}
	if c.quiesceDue && c.state == raft.StateLeader {
		c.quiesce()
	}
	return nil
}

func (c *peerCore) sendRaft(m raftpb.Message) {
	if m.To == c.id {
		return
	}
	node, ok := c.names[m.To]
	if !ok {
		c.rn.ReportUnreachable(m.To)
		return
	}
	if m.Type == raftpb.MsgSnap {
		// The message is handed to the host as it is; it arrives or the
		// node is down, and raft sends it again after a timeout.
		c.rn.ReportSnapshot(m.To, raft.SnapshotFinish)
		if m.Size() > c.cfg.maxMessage() {
			c.sendPieces(node, m)
			return
		}
	}
	c.out = append(c.out, peerOut{node: node, env: peerEnv{Ens: c.ens, Kind: envRaft, Raft: m}})
}

// sendPieces sends a snapshot message too large for a frame in pieces,
// each in an envelope of its own whose Raft message names the sender.
func (c *peerCore) sendPieces(node string, m raftpb.Message) {
	pieces, err := raftchunk.Split(m, c.cfg.maxMessage())
	if err != nil {
		c.log.Error("ensemble: encode snapshot message", "err", err)
		return
	}
	head := raftpb.Message{From: m.From, To: m.To, Term: m.Term}
	for _, p := range pieces {
		c.out = append(c.out, peerOut{node: node, env: peerEnv{Ens: c.ens, Kind: envPiece, Raft: head, Piece: &p}})
	}
}

func (c *peerCore) softState(ss raft.SoftState) {
	if ss.Lead != c.lead {
		c.changed = true
	}
	wasLeader := c.state == raft.StateLeader
	c.lead, c.state = ss.Lead, ss.RaftState
	if wasLeader == (c.state == raft.StateLeader) {
		return
	}
	c.changed = true
	c.termCommitted = false
	c.leaseUntil = time.Time{}
	clear(c.leaseSent)
	// Reads not confirmed yet have had no effect: their callers are told
	// at once (a nack, which is a timeout) and may retry at the new leader.
	for _, seq := range sortedKeys(c.pendingReads) {
		for _, r := range c.pendingReads[seq] {
			c.replies = append(c.replies, reply{r.from, ErrTimeout})
		}
		delete(c.pendingReads, seq)
	}
	for _, r := range c.waitingReads {
		c.replies = append(c.replies, reply{r.from, ErrTimeout})
	}
	c.waitingReads = nil
	// So are callers of membership changes: theirs may still commit under
	// the next leader, or not (a timeout: the outcome is unknown).
	for _, seq := range sortedKeys(c.pendingConf) {
		c.replies = append(c.replies, reply{c.pendingConf[seq], ErrTimeout})
	}
	clear(c.pendingConf)
	for _, from := range c.confWaiting {
		c.replies = append(c.replies, reply{from, ErrTimeout})
	}
	c.confWaiting = nil
	for _, r := range c.confQueued {
		c.replies = append(c.replies, reply{r.From, ErrTimeout})
	}
	c.confQueued = nil
}

func (c *peerCore) apply(e raftpb.Entry) error {
	if e.Index <= c.applied {
		return nil
	}
	c.applied = e.Index
	if c.state == raft.StateLeader && e.Term == c.term {
		c.termCommitted = true
	}
	switch e.Type {
	case raftpb.EntryConfChange:
		var cc raftpb.ConfChange
		if err := cc.Unmarshal(e.Data); err != nil {
			return err
		}
		if len(cc.Context) > 0 {
			c.names[cc.NodeID] = string(cc.Context)
		}
		c.setConfState(*c.rn.ApplyConfChange(cc))
		c.confChanged = true
		return nil
	case raftpb.EntryConfChangeV2:
		var cc raftpb.ConfChangeV2
		if err := cc.Unmarshal(e.Data); err != nil {
			return err
		}
		seq, proposer := c.learnNames(cc.Context)
		c.setConfState(*c.rn.ApplyConfChange(cc))
		c.confChanged = true
		if from, ok := c.pendingConf[seq]; ok && proposer == c.id {
			delete(c.pendingConf, seq)
			c.confWaiting = append(c.confWaiting, from)
		}
		if len(c.confState.VotersOutgoing) == 0 {
			// The joint configuration is left: the change is complete.
			for _, from := range c.confWaiting {
				c.replies = append(c.replies, reply{from, okReply{OK: true}})
			}
			c.confWaiting = nil
		}
		return nil
	}
	if len(e.Data) == 0 {
		return nil // a new leader's empty entry
	}
	proposer, seq, op, err := decodeEntry(e.Data)
	if err != nil {
		return err
	}
	obj, opErr, stored := applyOp(c.backend, op, e.Term, e.Index)
	if stored != nil {
		if obj, opErr, stored = c.repair(op, e, stored); stored != nil {
			return stored
		}
	}
	if proposer == c.id {
		if from, ok := c.pending.Take(seq); ok {
			if opErr != nil {
				c.replies = append(c.replies, reply{from, opErr})
			} else {
				c.replies = append(c.replies, reply{from, obj})
			}
		}
	}
	return nil
}

// repair answers a backend that did not keep a committed write (it failed
// it, or acknowledged it and forgot it: riak's drop_write). Raft counts
// this peer as holding the entry, and a leader elected later would serve
// from the copy behind it; so the backend is built again from the latest
// snapshot and the log since, and the entry applied once more. A backend
// that fails again stops the peer: the ensemble goes on with its other
// members, and UpdateMembers can replace this one.
func (c *peerCore) repair(op kvOp, e raftpb.Entry, cause error) (Object, error, error) {
	c.log.Warn("ensemble: rebuilding the backend from the snapshot and the log", "ensemble", c.ens, "err", cause)
	if err := c.rebuild(e.Index - 1); err != nil {
		return Object{}, nil, fmt.Errorf("ensemble: %s: rebuild after %v: %w", c.ens, cause, err)
	}
	obj, outcome, stored := applyOp(c.backend, op, e.Term, e.Index)
	if stored != nil {
		return obj, outcome, fmt.Errorf("ensemble: %s: the backend fails again after a rebuild: %w", c.ens, stored)
	}
	return obj, outcome, nil
}

// rebuild restores the backend from the log's snapshot and applies the
// operations of the entries after it, up to index upTo, again.
func (c *peerCore) rebuild(upTo uint64) error {
	snap, err := c.store.Snapshot()
	if err != nil {
		return err
	}
	data := emptySnapshot()
	if !raft.IsEmptySnap(snap) {
		if _, data, err = splitSnapshot(snap.Data); err != nil {
			return err
		}
	}
	if err := c.backend.Restore(data); err != nil {
		return err
	}
	lo := snap.Metadata.Index + 1
	if upTo < lo {
		return nil
	}
	ents, err := c.store.Entries(lo, upTo+1, math.MaxUint64)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type != raftpb.EntryNormal || len(e.Data) == 0 {
			continue
		}
		_, _, op, err := decodeEntry(e.Data)
		if err != nil {
			return err
		}
		if _, _, stored := applyOp(c.backend, op, e.Term, e.Index); stored != nil {
			return stored
		}
	}
	return nil
}

func (c *peerCore) setConfState(cs raftpb.ConfState) {
	c.confState = cs
	c.changed = true
	in := slices.Contains(cs.Voters, c.id) || slices.Contains(cs.VotersOutgoing, c.id) ||
		slices.Contains(cs.Learners, c.id) || slices.Contains(cs.LearnersNext, c.id)
	switch {
	case in:
		// Also after a removal: a peer that joins again replays its own
		// removal before the configuration that adds it back.
		c.member, c.removed = true, false
	case c.member:
		// A peer that joins replays the configurations before its own
		// addition; only one that was a member is removed.
		c.removed = true
	}
}

// learnNames reads a ConfChangeV2 context: proposer, seq, then (id, node)
// pairs of the nodes it adds.
func (c *peerCore) learnNames(ctx []byte) (seq, proposer uint64) {
	proposer, b, ok := readUvarint(ctx)
	if !ok {
		return 0, 0
	}
	if seq, b, ok = readUvarint(b); !ok {
		return 0, 0
	}
	for len(b) > 0 {
		var node string
		if node, b, ok = readString(b); !ok {
			return seq, proposer
		}
		c.names[nodeID(node)] = node
	}
	return seq, proposer
}

func (c *peerCore) readState(rs raft.ReadState) {
	if len(rs.RequestCtx) != 8 {
		return
	}
	seq := binary.BigEndian.Uint64(rs.RequestCtx)
	if sent, ok := c.leaseSent[seq]; ok {
		delete(c.leaseSent, seq)
		if until := sent.Add(c.cfg.Lease); until.After(c.leaseUntil) {
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

func (c *peerCore) serveReads() {
	kept := c.waitingReads[:0]
	for _, r := range c.waitingReads {
		if r.index > c.applied {
			kept = append(kept, r)
			continue
		}
		c.replies = append(c.replies, reply{r.from, c.get(r.key)})
	}
	clear(c.waitingReads[len(kept):])
	c.waitingReads = kept
}

func (c *peerCore) get(key string) Object {
	if o, ok := c.backend.Get(key); ok {
		return o
	}
	return notFound(key)
}

// maybeSnapshot snapshots the backend every SnapshotEvery applied entries
// and drops the log behind it (keeping a tail for slow followers).
func (c *peerCore) maybeSnapshot() error {
	every := uint64(c.cfg.SnapshotEvery)
	if c.applied < c.snapIndex+every && !(c.confChanged && c.applied > c.snapIndex) {
		return nil
	}
	c.confChanged = false
	data, err := c.snapshotData()
	if err != nil {
		c.log.Error("ensemble: snapshot", "ensemble", c.ens, "err", err)
		return nil
	}
	snap, err := c.store.CreateSnapshot(c.applied, &c.confState, data)
	if err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
		return fmt.Errorf("ensemble: create snapshot: %w", err)
	}
	c.snapIndex = c.applied
	if keep := every / 4; c.applied > keep {
		if err := c.store.Compact(c.applied - keep); err != nil && !errors.Is(err, raft.ErrCompacted) {
			return fmt.Errorf("ensemble: compact: %w", err)
		}
	}
	if c.disk == nil || err != nil {
		return nil
	}
	if err := c.disk.Snapshotted(c.store, snap); err != nil {
		return fmt.Errorf("ensemble: %w", err)
	}
	return nil
}

// snapshotData is the member names then the backend's snapshot.
func (c *peerCore) snapshotData() ([]byte, error) {
	data, err := c.backend.Snapshot()
	if err != nil {
		return nil, err
	}
	ids := sortedKeys(c.names)
	b := binary.AppendUvarint(nil, uint64(len(ids)))
	for _, id := range ids {
		b = appendString(b, c.names[id])
	}
	return append(b, data...), nil
}

// splitSnapshot parses snapshotData's encoding: the member names, and the
// backend's snapshot.
func splitSnapshot(data []byte) (names []string, backend []byte, err error) {
	n, b, ok := readUvarint(data)
	if !ok || n > uint64(len(b)) {
		return nil, nil, errBadEntry
	}
	names = make([]string, 0, n)
	for range n {
		var node string
		if node, b, ok = readString(b); !ok {
			return nil, nil, errBadEntry
		}
		names = append(names, node)
	}
	return names, b, nil
}

// emptySnapshot is the snapshot of an empty backend.
func emptySnapshot() []byte {
	b, _ := (&memoryBackend{objs: map[string]Object{}}).Snapshot()
	return b
}

func (c *peerCore) restore(snap raftpb.Snapshot) error {
	names, b, err := splitSnapshot(snap.Data)
	if err != nil {
		return err
	}
	for _, node := range names {
		c.names[nodeID(node)] = node
	}
	if err := c.backend.Restore(b); err != nil {
		return fmt.Errorf("ensemble: restore backend: %w", err)
	}
	c.applied, c.snapIndex = snap.Metadata.Index, snap.Metadata.Index
	c.setConfState(snap.Metadata.ConfState)
	return nil
}

// members are the voters' node names, sorted (both sides of a joint
// configuration: the new one first, then the old one).
func (c *peerCore) members() (cur, old []string) {
	for _, id := range c.confState.Voters {
		cur = append(cur, c.names[id])
	}
	for _, id := range c.confState.VotersOutgoing {
		old = append(old, c.names[id])
	}
	slices.Sort(cur)
	slices.Sort(old)
	return cur, old
}

func (c *peerCore) leaderNode() string {
	if c.lead == 0 {
		return ""
	}
	return c.names[c.lead]
}

func (c *peerCore) nextSeq() uint64 {
	c.seq++
	return c.seq
}

func seqCtx(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// sortedKeys returns a map's keys in order, so that effects never depend
// on map iteration order.
func sortedKeys[V any](m map[uint64]V) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

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
