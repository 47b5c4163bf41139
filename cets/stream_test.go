package cets

import (
	"testing"
)

func TestStreamsCarryTypesOnceAndRefuseGaps(t *testing.T) {
	sender, receiver := newStreams(), newStreams()
	a, b := pidN(1), pidN(2)
	var sizes []int
	for i := range 3 {
		id, seq, payload, err := sender.encode(b, ins(rec{"k", i}))
		if err != nil || seq != uint64(i) {
			t.Fatalf("encode %d: seq %d, %v", i, seq, err)
		}
		sizes = append(sizes, len(payload))
		var got []op[string, rec]
		if err := receiver.decode(a, id, seq, payload, &got); err != nil || got[0].Recs[0].Val != i {
			t.Fatalf("decode %d: %v %v", i, got, err)
		}
	}
	if sizes[1] >= sizes[0] {
		t.Fatalf("later batches (%d bytes) should be smaller than the first (%d): types go once", sizes[1], sizes[0])
	}
	// A gap (a lost message) is refused.
	id, _, _, _ := sender.encode(b, ins(rec{"lost", 0}))
	_, seq, payload, _ := sender.encode(b, ins(rec{"k", 9}))
	var got []op[string, rec]
	if err := receiver.decode(a, id, seq, payload, &got); err == nil {
		t.Fatal("decoded past a gap")
	}
	// After the peer is dropped both sides start a new stream, at 0.
	sender.drop(b)
	receiver.drop(a)
	id2, seq, payload, _ := sender.encode(b, ins(rec{"k", 10}))
	if seq != 0 || id2 == id {
		t.Fatalf("new stream %x seq %d", id2, seq)
	}
	if err := receiver.decode(a, id2, seq, payload, &got); err != nil || got[0].Recs[0].Val != 10 {
		t.Fatalf("new stream: %v %v", got, err)
	}
}
