package rafted

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
	"go.etcd.io/raft/v3/raftpb"
)

func TestPeerMsgCrossesTheWire(t *testing.T) {
	in := peerMsg{
		From: memberAddr{PID: actor.PID{Node: "a", Creation: 7, ID: 9}, Name: actor.Name{Node: "a", Name: "rv"}},
		Msg: raftpb.Message{Type: raftpb.MsgApp, To: 2, From: 1, Term: 3, Index: 4, LogTerm: 3, Commit: 4,
			Entries: []raftpb.Entry{{Term: 3, Index: 5, Data: []byte("x")}}},
	}
	for _, v := range []any{in, in.Msg} {
		b, err := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvMessage, To: actor.PID{Node: "b", Creation: 1, ID: 1}, Message: v})
		if err != nil {
			t.Fatal(err)
		}
		env, err := wire.DecodeEnvelope(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(env.Message, v) {
			t.Fatalf("got %+v, want %+v", env.Message, v)
		}
	}
	for i := range 20 { // cut anywhere: an error, never a panic
		b, _ := encodePeerMsg(in)
		if i < len(b) {
			_, _ = decodePeerMsg(b[:i])
		}
	}
}

func TestEncodings(t *testing.T) {
	o := op{kind: opCommand, proposer: 5, seq: 6, id: "id", payload: []byte{1, 2}}
	if got, err := decodeOp(encodeOp(o)); err != nil || !reflect.DeepEqual(got, o) {
		t.Fatalf("op: %+v %v", got, err)
	}
	cfg := Config{HeartbeatInterval: time.Second, ElectionTimeout: 3 * time.Second, ElectionTimeoutClockDriftMargin: 1, MaxRetainedCommittedLogs: 4, MaxRetainedCommandResults: 5}
	cc := confContext{proposer: 1, seq: 2, addr: memberAddr{PID: actor.PID{Node: "n", Creation: 1, ID: 3}}, config: &cfg}
	if got, err := decodeConfContext(encodeConfContext(cc)); err != nil || !reflect.DeepEqual(got, cc) {
		t.Fatalf("conf context: %+v %v", got, err)
	}
	rc := newResultCache(5)
	rc.put("a", int64(1))
	rc.put("b", "two")
	r := replicated{config: cfg, members: map[uint64]memberAddr{3: cc.addr}, results: rc, data: []byte("value")}
	b, err := encodeSnapshot(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSnapshot(b, 0)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("snapshot: %+v %v", got, err)
	}
}

func TestResultCacheEvictsOldest(t *testing.T) {
	c := newResultCache(2)
	for _, id := range []string{"a", "b", "a", "c"} {
		c.put(id, id)
	}
	if _, ok := c.get("a"); ok {
		t.Fatal("a kept")
	}
	if !reflect.DeepEqual(c.order, []string{"b", "c"}) {
		t.Fatalf("order %v", c.order)
	}
}

func TestDiskReplay(t *testing.T) {
	dir := t.TempDir()
	d, st, err := openDisk(dir)
	if err != nil || st.Found {
		t.Fatalf("fresh dir: %+v %v", st, err)
	}
	if err := d.Create(42); err != nil {
		t.Fatal(err)
	}
	ents := func(term uint64, idx ...uint64) []raftpb.Entry {
		var out []raftpb.Entry
		for _, i := range idx {
			out = append(out, raftpb.Entry{Term: term, Index: i, Data: []byte{byte(i)}})
		}
		return out
	}
	steps := []struct {
		hard raftpb.HardState
		ents []raftpb.Entry
	}{
		{raftpb.HardState{Term: 1, Commit: 1}, ents(1, 1, 2, 3)},
		{raftpb.HardState{Term: 2, Vote: 7, Commit: 2}, ents(2, 3, 4)}, // overwrites 3
	}
	for _, s := range steps {
		if err := d.Save(s.hard, s.ents, nil); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	// A torn record at the end is cut off.
	f, _ := os.OpenFile(filepath.Join(dir, "log"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0, 0, 0, 50, 1, 2})
	f.Close()

	d, st, err = openDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := append(ents(1, 1, 2), ents(2, 3, 4)...)
	if !st.Found || st.ID != 42 || st.Hard.Term != 2 || st.Hard.Vote != 7 || !reflect.DeepEqual(st.Ents, want) {
		t.Fatalf("replayed %+v", st)
	}
	// Compaction keeps only what follows the snapshot.
	snap := raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 3, Term: 2}, Data: []byte("s")}
	if err := d.SaveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if err := d.Compact(st.Hard, ents(2, 4)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, st, err = openDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if st.Snap.Metadata.Index != 3 || !reflect.DeepEqual(st.Ents, ents(2, 4)) || st.Hard.Commit != 2 {
		t.Fatalf("after compaction %+v", st)
	}
}
