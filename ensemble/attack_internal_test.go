package ensemble

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/raftchunk"
	"go.etcd.io/raft/v3/raftpb"
)

// pieceBatch encodes a batch of one piece envelope whose piece fields are
// written raw, so that they can be what no honest sender writes.
func pieceBatch(term, index, seq, total uint64, dataLen uint64, data []byte) []byte {
	head := raftpb.Message{From: 1, To: 2, Term: 3}
	b := appendString(nil, "n1")
	b = appendString(b, "c")
	b = binary.AppendUvarint(b, 1)
	b = appendString(b, "e")
	b = append(b, byte(envPiece))
	raw, _ := head.Marshal()
	b = appendBytes(b, raw)
	b = appendUvarints(b, term, index, seq, total, dataLen)
	b = append(b, data...)
	return binary.AppendUvarint(b, 0) // no notices
}

// A piece envelope with hostile fields is refused by the decoder, which
// neither panics nor allocates beyond what the input holds.
func TestAttackDecodePieceFields(t *testing.T) {
	data := []byte("piece")
	cases := []struct {
		name string
		b    []byte
	}{
		{"seq past 32 bits", pieceBatch(3, 9, 1<<32, 4, 5, data)},
		{"total past 32 bits", pieceBatch(3, 9, 0, 1<<32, 5, data)},
		{"seq at the top of uint64", pieceBatch(3, 9, 1<<64-1, 4, 5, data)},
		{"data longer than the batch", pieceBatch(3, 9, 0, 4, 6, data)},
		{"data length at the top of uint64", pieceBatch(3, 9, 0, 4, 1<<64-1, data)},
		{"data length of a gigabyte", pieceBatch(3, 9, 0, 4, 1<<30, data)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := decodeBatch(tc.b)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("accepted")
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Fatalf("refusing %d bytes allocated %d", len(tc.b), grew)
			}
		})
	}
	// The honest encoding of the same fields decodes; every cut of it is
	// refused.
	good := pieceBatch(3, 9, 1, 4, 5, data)
	h, err := decodeBatch(good)
	if err != nil || len(h.Envs) != 1 || h.Envs[0].Piece == nil || !bytes.Equal(h.Envs[0].Piece.Data, data) ||
		h.Envs[0].Piece.Seq != 1 || h.Envs[0].Piece.Total != 4 {
		t.Fatalf("the honest batch: %+v, %v", h, err)
	}
	for i := range len(good) {
		if _, err := decodeBatch(good[:i]); err == nil {
			t.Fatalf("a batch cut at %d of %d bytes was accepted", i, len(good))
		}
	}
}

// A piece that decodes but could not be part of a sending (its Seq at or
// past its Total, a Total of zero, a Total that changes on the way) never
// completes a message in the Gatherer.
func TestAttackGathererHostilePieces(t *testing.T) {
	m := raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: 3,
		Snapshot: &raftpb.Snapshot{Data: bytes.Repeat([]byte("s"), 4000), Metadata: raftpb.SnapshotMetadata{Index: 40, Term: 3}}}
	pieces, err := raftchunk.Split(m, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var g raftchunk.Gatherer
	for _, p := range []raftchunk.Piece{
		{Term: 3, Index: 40, Seq: 0, Total: 0},
		{Term: 3, Index: 40, Seq: 5, Total: 5},
		{Term: 3, Index: 40, Seq: 1<<32 - 1, Total: 1},
	} {
		if _, done, _ := g.Add(1, p); done {
			t.Fatalf("piece %+v completed a message", p)
		}
	}
	// A sending whose Total shrinks on the way: the bytes gathered are a
	// cut of the message, which must not come out as a message.
	if _, done, _ := g.Add(1, pieces[0]); done {
		t.Fatal("one piece completed")
	}
	short := pieces[1]
	short.Total = 2
	if got, done, err := g.Add(1, short); done && err == nil {
		t.Fatalf("two pieces of %d came out as a message of %d snapshot bytes", len(pieces), len(got.Snapshot.Data))
	}
}

// Pieces of snapshot messages from many senders, interleaved, each come out
// whole, and one sender's restart (a new piece 0) does not disturb the
// others.
func TestAttackGathererManySenders(t *testing.T) {
	const senders = 8
	all := make([][]raftchunk.Piece, senders+1)
	for s := uint64(1); s <= senders; s++ {
		m := raftpb.Message{Type: raftpb.MsgSnap, From: s, To: 99, Term: s,
			Snapshot: &raftpb.Snapshot{Data: bytes.Repeat([]byte{byte(s)}, int(s)*700), Metadata: raftpb.SnapshotMetadata{Index: 10 * s, Term: s}}}
		p, err := raftchunk.Split(m, 500)
		if err != nil {
			t.Fatal(err)
		}
		all[s] = p
	}
	var g raftchunk.Gatherer
	done := map[uint64]bool{}
	// Sender 3 starts, is cut off after two pieces, and starts again.
	for _, p := range all[3][:2] {
		if _, ok, _ := g.Add(3, p); ok {
			t.Fatal("a part of sender 3's message completed")
		}
	}
	for i := 0; len(done) < senders; i++ {
		for s := uint64(1); s <= senders; s++ {
			if i >= len(all[s]) {
				continue
			}
			m, ok, err := g.Add(s, all[s][i])
			if err != nil {
				t.Fatalf("sender %d piece %d: %v", s, i, err)
			}
			if ok != (i == len(all[s])-1) {
				t.Fatalf("sender %d piece %d of %d: done %v", s, i, len(all[s]), ok)
			}
			if ok {
				if m.From != s || len(m.Snapshot.Data) != int(s)*700 || m.Snapshot.Data[0] != byte(s) {
					t.Fatalf("sender %d's message came out as %+v", s, m.Snapshot.Metadata)
				}
				done[s] = true
			}
		}
	}
}

// A split batch holding snapshot pieces, appends and many notices goes out
// in parts whose encoding each fits the frame.
func TestAttackSplitBatchFitsFrames(t *testing.T) {
	cfg := Config{MaxFrameSize: 8 << 10}.withDefaults()
	max := cfg.maxMessage()
	snap := raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: 1 << 40,
		Snapshot: &raftpb.Snapshot{Data: bytes.Repeat([]byte("x"), 5*max), Metadata: raftpb.SnapshotMetadata{Index: 1 << 50, Term: 1 << 40}}}
	pieces, err := raftchunk.Split(snap, max)
	if err != nil {
		t.Fatal(err)
	}
	h := hostBatch{From: "a-node-with-a-longish-name", Cluster: "0f4a3c4e-8b7d-4a51-9d55-2f6e1f1c9b11"}
	head := raftpb.Message{From: 1, To: 2, Term: 1 << 40}
	for i := range pieces {
		h.Envs = append(h.Envs, peerEnv{Ens: "an-ensemble", Kind: envPiece, Raft: head, Piece: &pieces[i]})
		app := raftpb.Message{Type: raftpb.MsgApp, From: 1, To: 2, Term: 1 << 40,
			Entries: []raftpb.Entry{{Term: 1 << 40, Index: 1 << 50, Data: bytes.Repeat([]byte("e"), max/3)}}}
		h.Envs = append(h.Envs, peerEnv{Ens: "an-ensemble", Kind: envRaft, Raft: app})
	}
	for i := range 400 {
		h.Notices = append(h.Notices, View{Ensemble: "ens-" + string(rune('a'+i%26)), Leader: "n1", Term: 1 << 60,
			Members: []string{"n1", "n2", "n3"}, OldMembers: []string{"n4"}})
	}
	parts := splitBatch(h, max)
	envs, notices := 0, 0
	for i, part := range parts {
		b, err := encodeBatch(part)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > cfg.MaxFrameSize-200 {
			t.Fatalf("part %d of %d encodes to %d bytes, for frames of %d", i, len(parts), len(b), cfg.MaxFrameSize)
		}
		envs += len(part.Envs)
		notices += len(part.Notices)
	}
	if envs != len(h.Envs) || notices != len(h.Notices) {
		t.Fatalf("%d envelopes and %d notices out of %d and %d", envs, notices, len(h.Envs), len(h.Notices))
	}
}

// A joining peer replays the configurations before its own addition; when
// it was a member once, removed and is added again, it passes the one that
// removed it before the one that adds it back, and must not take itself
// for removed.
func TestAttackReplayOfOwnRemovalBeforeReAddition(t *testing.T) {
	be, _ := NewMemoryBackend("", "")
	cfg := Config{}.withDefaults()
	c, err := newPeerCore(peerInit{ens: "e", node: "c", cfg: cfg, backend: be, log: cfg.Logger, now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	conf := func(index uint64, typ raftpb.ConfChangeType, nodes ...string) raftpb.Entry {
		cc := raftpb.ConfChangeV2{Context: appendUvarints(nil, 0, index)}
		for _, n := range nodes {
			cc.Changes = append(cc.Changes, raftpb.ConfChangeSingle{Type: typ, NodeID: nodeID(n)})
			if typ == raftpb.ConfChangeAddNode {
				cc.Context = appendString(cc.Context, n)
			}
		}
		data, _ := cc.Marshal()
		return raftpb.Entry{Type: raftpb.EntryConfChangeV2, Term: 1, Index: index, Data: data}
	}
	for _, e := range []raftpb.Entry{
		conf(1, raftpb.ConfChangeAddNode, "a"),
		conf(2, raftpb.ConfChangeAddNode, "b"),
		conf(3, raftpb.ConfChangeAddNode, "c"),
		conf(4, raftpb.ConfChangeRemoveNode, "c"),
		conf(5, raftpb.ConfChangeAddNode, "c"),
	} {
		if err := c.apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if cur, _ := c.members(); len(cur) != 3 || c.removed {
		t.Fatalf("after the log that adds c again: members %v, removed %v", cur, c.removed)
	}
}

// A leader that loses its leadership with a membership change under way
// answers its caller (a nack, ErrTimeout, as it does pending reads), so
// that UpdateMembers, and the root's Join and Remove behind it, retry at
// the new leader instead of waiting out their whole ctx.
func TestAttackLostLeadershipAnswersAPendingChange(t *testing.T) {
	be, _ := NewMemoryBackend("", "")
	cfg := Config{}.withDefaults()
	now := time.Unix(0, 0)
	c, err := newPeerCore(peerInit{ens: "e", node: "a", members: []string{"a"}, cfg: cfg, backend: be, log: cfg.Logger, now: now})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		now = now.Add(cfg.Tick)
		c.tick(now)
		if err := c.process(); err != nil {
			t.Fatal(err)
		}
	}
	if c.status().State != "leader" {
		t.Fatalf("status %+v", c.status())
	}
	c.replies = nil
	from := fromForTest()
	if r := c.updateMembers(from, []string{"b"}, nil); r != actor.NoReply {
		t.Fatalf("updateMembers: %v", r)
	}
	// Before the change commits, a leader of a later term is heard.
	term := c.rn.BasicStatus().Term
	c.step("b", peerEnv{Ens: "e", Kind: envRaft, Raft: raftpb.Message{Type: raftpb.MsgHeartbeat, From: nodeID("b"), To: nodeID("a"), Term: term + 5}}, now)
	if err := c.process(); err != nil {
		t.Fatal(err)
	}
	if c.status().State == "leader" {
		t.Fatal("still leader after a later term was heard")
	}
	for _, r := range c.replies {
		if r.to == from {
			return
		}
	}
	t.Fatalf("the caller of the change was not answered when leadership was lost; replies %+v", c.replies)
}
