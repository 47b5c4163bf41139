package plumtree

import (
	"reflect"
	"testing"
)

func TestWireRoundTrip(t *testing.T) {
	msgs := []Message{
		&Broadcast{ID: "a", Payload: []byte("x"), Handler: "h", Round: 3, Root: "r"},
		&Prune{Root: "r", Handler: "h"},
		&IHave{ID: 7, Handler: "h", Round: 1, Root: "r"},
		&IgnoredIHave{ID: 7, Handler: "h", Round: 1, Root: "r"},
		&Graft{ID: 7, Handler: "h", Round: 1, Root: "r", Optimize: true},
	}
	var encoded []any
	for _, m := range msgs {
		e := encodeMessage("n1", m)
		encoded = append(encoded, e)
		from, got, ok := decodeMessage(e)
		if !ok || from != "n1" || !reflect.DeepEqual(got, m) {
			t.Fatalf("%T: got %+v from %q (%v)", m, got, from, ok)
		}
	}
	items, ok := decodeBatch(encodeBatch(encoded))
	if !ok || len(items) != len(msgs) {
		t.Fatalf("batch: %v %v", items, ok)
	}
	for _, bad := range [][]any{
		nil,
		{"other", 1, "n1", "h", 1, nil, 0, "r", false},
		{wireTag, 99, "n1", "h", 1, nil, 0, "r", false},
		{wireTag, kindIHave, "", "h", 1, nil, 0, "r", false},
		{wireTag, kindIHave, "n1", "h", []any{1}, nil, 0, "r", false},
		{wireTag, kindIHave, "n1", "h", 1, nil, "zero", "r", false},
	} {
		if _, _, ok := decodeMessage(bad); ok {
			t.Errorf("decoded %v", bad)
		}
	}
	if _, ok := decodeBatch([]any{wireBatchTag, "not a list"}); ok {
		t.Error("decoded a batch of a string")
	}
}
