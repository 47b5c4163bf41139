package hyparview

import (
	"reflect"
	"testing"

	"github.com/gotp-dev/gotp/remote"
)

func TestWireRoundTrip(t *testing.T) {
	msgs := []Message{Join{}, JoinAccept{}, ForwardJoin[string]{New: "n", TTL: 4}, Neighbor{Priority: High}, Neighbor{Priority: Low},
		NeighborReply{Accepted: true}, NeighborReply{}, Disconnect{}, Shuffle[string]{Origin: "o", TTL: 6, Nodes: []string{"o", "p"}},
		ShuffleReply[string]{Nodes: []string{"q"}}}
	for _, m := range msgs {
		w, _ := encode("a", m)
		w.Specs = []remote.NodeSpec{{Name: "a", Addrs: []string{"a:1"}, Tags: map[string]string{"k": "v"}}}
		b, err := marshalWire(w)
		if err != nil {
			t.Fatal(err)
		}
		back, err := unmarshalWire(b)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !reflect.DeepEqual(back, w) {
			t.Fatalf("%T: %+v != %+v", m, back, w)
		}
		got, ok := decode(back)
		if !ok || !reflect.DeepEqual(got, m) {
			t.Fatalf("decoded %#v, want %#v", got, m)
		}
		for cut := range b {
			if _, err := unmarshalWire(b[:cut]); err == nil {
				t.Fatalf("%T cut at %d decoded", m, cut)
			}
		}
	}
}

func FuzzUnmarshalWire(f *testing.F) {
	w, _ := encode("a", Shuffle[string]{Origin: "o", TTL: 6, Nodes: []string{"o", "p"}})
	b, _ := marshalWire(w)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := unmarshalWire(b)
		if err != nil {
			return
		}
		again, err := marshalWire(w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := unmarshalWire(again); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
	})
}
