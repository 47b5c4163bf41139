package raftchunk

import (
	"bytes"
	"errors"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

func snapMsg(n int) raftpb.Message {
	data := bytes.Repeat([]byte("snapshot"), n)
	return raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: 2, Term: 3,
		Snapshot: &raftpb.Snapshot{Data: data, Metadata: raftpb.SnapshotMetadata{Index: 40, Term: 3}}}
}

func TestSplitAndGather(t *testing.T) {
	m := snapMsg(1000)
	pieces, err := Split(m, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(pieces) != (m.Size()+999)/1000 {
		t.Fatalf("%d pieces for %d bytes", len(pieces), m.Size())
	}
	var g Gatherer
	for i, p := range pieces {
		if len(p.Data) > 1000 {
			t.Fatalf("piece %d holds %d bytes", i, len(p.Data))
		}
		got, done, err := g.Add(1, p)
		if err != nil || done != (i == len(pieces)-1) {
			t.Fatalf("piece %d: done %v, %v", i, done, err)
		}
		if done && !bytes.Equal(got.Snapshot.Data, m.Snapshot.Data) {
			t.Fatal("the message put together differs")
		}
	}
}

// A piece out of order, or of another sending, drops what was gathered;
// a new sending (piece 0) starts afresh; senders do not mix.
func TestGatherDropsWhatIsOutOfOrder(t *testing.T) {
	a, _ := Split(snapMsg(500), 1000)
	var g Gatherer
	if _, done, _ := g.Add(1, a[0]); done {
		t.Fatal("one piece of four completed the message")
	}
	if _, done, _ := g.Add(2, a[1]); done {
		t.Fatal("a piece from another sender was taken")
	}
	if _, done, _ := g.Add(1, a[2]); done {
		t.Fatal("a piece out of order was taken")
	}
	if _, done, _ := g.Add(1, a[3]); done {
		t.Fatal("pieces after a gap were taken")
	}
	for i, p := range a {
		if _, done, err := g.Add(1, p); err != nil || done != (i == len(a)-1) {
			t.Fatalf("a new sending, piece %d: %v %v", i, done, err)
		}
	}
	bad := a[0]
	bad.Total = 0
	if _, done, _ := g.Add(1, bad); done {
		t.Fatal("a piece of none was taken")
	}
}

// What is gathered at once, over every sender, stays within Max: a
// sending that would pass it is dropped with ErrTooLarge (and later pieces
// of it are not taken), and the other senders' are kept.
func TestGatherIsCapped(t *testing.T) {
	small, _ := Split(snapMsg(100), 300) // 3 pieces, about 830 bytes
	big, _ := Split(snapMsg(1000), 1000) // 9 pieces, about 8 KB
	g := Gatherer{Max: 4000}
	if _, _, err := g.Add(1, small[0]); err != nil {
		t.Fatal(err)
	}
	var tooLarge int
	for _, p := range big {
		if _, done, err := g.Add(2, p); done {
			t.Fatal("a sending past the cap was put together")
		} else if errors.Is(err, ErrTooLarge) {
			tooLarge++
		}
	}
	if tooLarge != 1 {
		t.Fatalf("%d pieces refused with ErrTooLarge; want 1 (the rest are of a dropped sending)", tooLarge)
	}
	if g.held != len(small[0].Data) {
		t.Fatalf("%d bytes held; want only sender 1's %d", g.held, len(small[0].Data))
	}
	// Forged senders cannot add up past the cap either.
	for from := uint64(10); from < 20; from++ {
		_, _, _ = g.Add(from, big[0])
	}
	if g.held > 4000 {
		t.Fatalf("%d bytes held, past the cap", g.held)
	}
	for i, p := range small[1:] {
		if _, done, err := g.Add(1, p); err != nil || done != (i == 1) {
			t.Fatalf("sender 1, piece %d: done %v, %v", i+1, done, err)
		}
	}
	// The default cap is DefaultMax.
	var d Gatherer
	huge := Piece{Term: 1, Index: 1, Seq: 0, Total: 2, Data: make([]byte, 16)}
	d.held = DefaultMax - 8
	if _, _, err := d.Add(1, huge); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("past DefaultMax: %v", err)
	}
}
