package wire_test

import (
	"bytes"
	"errors"
	"math/big"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

type (
	inner struct {
		Label string
		When  time.Time // a BinaryMarshaler
		Peer  actor.PID
	}
	everything struct {
		B        bool
		I8       int8
		I        int
		U16      uint16
		U        uint64
		F32      float32
		F        float64
		C        complex128
		S        string
		Raw      []byte
		Ints     []int
		Grid     [2][3]int16
		Index    map[string][]int
		ByID     map[uint32]inner
		In       inner
		Ptr      *inner
		NilPtr   *inner
		Any      any   // a builtin
		AnyReg   any   // a registered value
		AnyList  any   // a []any
		NilAny   any   // nil
		Err      error // an error travels as an error does in a message
		Skip     func()
		Chan     chan int
		private  int
		Names    []actor.Name
		Embedded // its fields are the struct's, as gob has them
	}
	Embedded struct{ E string }
	node     struct {
		Value int
		Next  *node
	}
	// twin has node's shape under another field name: a different layout.
	twin struct {
		Val  int
		Next *twin
	}
)

func init() {
	wire.MustRegister[everything]("wire_test.everything")
	wire.MustRegister[node]("wire_test.node")
	wire.MustRegister[inner]("wire_test.inner")
}

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	env := actor.Envelope{Kind: actor.EnvMessage, To: pidB, Message: v}
	b, err := wire.EncodeEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	got, err := wire.DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	return got.Message
}

// Register's encoding carries every kind of field: what arrives equals
// what was sent (left-out and unexported fields aside), as a T whether a T
// or a *T was sent.
func TestRegisteredFieldsRoundTrip(t *testing.T) {
	when := time.Date(2026, 12, 2, 17, 0, 0, 123, time.UTC)
	v := everything{
		B: true, I8: -7, I: -1 << 40, U16: 65535, U: 1 << 63, F32: 1.5, F: -2.25, C: complex(1, -3),
		S: "héllo", Raw: []byte{0, 1, 2}, Ints: []int{3, -4}, Grid: [2][3]int16{{1, 2, 3}, {4, 5, 6}},
		Index: map[string][]int{"a": {1}, "b": nil}, ByID: map[uint32]inner{7: {Label: "seven", When: when}},
		In:  inner{Label: "in", When: when, Peer: actor.PID{Node: "n1", Creation: 3, ID: 9}},
		Ptr: &inner{Label: "ptr"}, Any: int64(42), AnyReg: inner{Label: "reg"}, AnyList: []any{"x", 1},
		Err: actor.Shutdown, Skip: func() {}, Chan: make(chan int), private: 5,
		Names: []actor.Name{{Node: "n2", Name: "srv"}}, Embedded: Embedded{E: "e"},
	}
	want := v
	want.Skip, want.Chan, want.private = nil, nil, 0
	for _, sent := range []any{v, &v} {
		got, ok := roundTrip(t, sent).(everything)
		if !ok {
			t.Fatalf("got %T", got)
		}
		if !errors.Is(got.Err, actor.Shutdown) {
			t.Fatalf("error field %v", got.Err)
		}
		got.Err, want.Err = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
		want.Err = actor.Shutdown
	}
}

// A recursive type travels; a cyclic value is an error at the sender, not
// a stack overflow.
func TestRegisteredRecursion(t *testing.T) {
	list := node{Value: 1, Next: &node{Value: 2, Next: &node{Value: 3}}}
	if got := roundTrip(t, list); !reflect.DeepEqual(got, list) {
		t.Fatalf("list %+v", got)
	}
	loop := &node{Value: 1}
	loop.Next = loop
	_, err := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvMessage, To: pidB, Message: loop})
	if err == nil || !strings.Contains(err.Error(), "deep") {
		t.Fatalf("a cyclic value: %v", err)
	}
	type holder struct{ V any }
	wire.MustRegister[holder]("wire_test.holder")
	h := &holder{}
	h.V = h // round and round through an interface field
	if _, err := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvMessage, To: pidB, Message: h}); err == nil {
		t.Fatal("a value holding itself through an interface was encoded")
	}
}

// A node whose definition of a type differs (another field name, say) gets
// a clear error, not the fields in the wrong places.
func TestRegisteredLayoutMismatch(t *testing.T) {
	data, err := wire.FieldsEncode(twin{Val: 1})
	if err != nil {
		t.Fatal(err)
	}
	env := actor.Envelope{Kind: actor.EnvMessage, To: pidB}
	_, err = wire.DecodeEnvelope(frameWith(t, env, registered("wire_test.node", data)))
	var be *wire.BodyError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "definition of the type differs") {
		t.Fatalf("decode of another layout: %v", err)
	}
}

// Bytes a peer made up are refused with an error: lengths beyond what is
// left, integers out of the field's range, bad marks, trailing bytes.
func TestRegisteredHostileBytes(t *testing.T) {
	good, err := wire.FieldsEncode(node{Value: 1, Next: &node{Value: 2}})
	if err != nil {
		t.Fatal(err)
	}
	print := good[:4]
	cases := map[string][]byte{
		"cut":             good[:len(good)-1],
		"trailing":        append(append([]byte(nil), good...), 0),
		"pointer mark":    append(append([]byte(nil), print...), 2, 2),
		"no fingerprint":  {1, 2},
		"overflow int8":   nil,
		"huge slice":      nil,
		"huge string":     nil,
		"bad bool":        nil,
		"bad iface value": nil,
	}
	type small struct {
		I8 int8
		L  []int
		S  string
		B  bool
		A  any
	}
	wire.MustRegister[small]("wire_test.small")
	sp, err := wire.FieldsEncode(small{})
	if err != nil {
		t.Fatal(err)
	}
	sp = sp[:4]
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases["overflow int8"] = cat(sp, []byte{0x80, 0x04}, []byte{0, 0, 0, 0}) // zigzag 256
	cases["huge slice"] = cat(sp, []byte{0}, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, []byte{0, 0, 0})
	cases["huge string"] = cat(sp, []byte{0, 0}, []byte{0xff, 0xff, 0xff, 0x7f}, []byte{0, 0})
	cases["bad bool"] = cat(sp, []byte{0, 0, 0, 7, 0})
	cases["bad iface value"] = cat(sp, []byte{0, 0, 0, 0, 1, 2, 0xff, 0xff})
	for name, data := range cases {
		typ := "wire_test.node"
		if len(data) >= 4 && bytes.Equal(data[:4], sp) {
			typ = "wire_test.small"
		}
		env := actor.Envelope{Kind: actor.EnvMessage, To: pidB}
		if _, err := wire.DecodeEnvelope(frameWith(t, env, registered(typ, data))); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// FuzzRegisteredFields decodes arbitrary bytes as Register's encoding of a
// value, inside a well-formed frame: never a panic, and no more allocated
// than a constant plus a multiple of the input.
func FuzzRegisteredFields(f *testing.F) {
	good := tree{Name: "root", Data: []byte{1, 2}, Weights: []int64{3}, Labels: map[string][]string{"k": {"v"}},
		Children: []*tree{{Name: "leaf", Children: []*tree{{Name: "deeper"}}}}}
	enc, err := wire.FieldsEncode(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	for n := range len(enc) {
		f.Add(enc[:n])
	}
	f.Add(append(enc[:4:4], 0xff, 0xff, 0xff, 0xff, 0x7f))
	fuzzRegistered(f, "wire_test.tree")
}

// Register's encoding against gob's, one small struct each way.
func BenchmarkRegistered(b *testing.B) {
	v := inner{Label: "a label", When: time.Unix(1, 0).UTC(), Peer: actor.PID{Node: "n1", Creation: 1, ID: 2}}
	gv := gobTree{Name: "a label", Weights: []int64{1, 2}}
	for _, c := range []struct {
		name string
		msg  any
	}{{"fields", v}, {"gob", gv}} {
		env := actor.Envelope{Kind: actor.EnvMessage, To: pidB, Message: c.msg}
		b.Run(c.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.EncodeEnvelope(env); err != nil {
					b.Fatal(err)
				}
			}
		})
		data, err := wire.EncodeEnvelope(env)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.DecodeEnvelope(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type (
	money struct {
		Amount *big.Int // GobEncode on *big.Int only
		Rate   big.Rat
		ByName map[string]big.Int // map values are not addressable
		Addr   netip.Addr         // MarshalBinary
	}
	locked struct{ Mu sync.Mutex }
	opaque struct{ n int }
)

// Types that encode themselves travel as their own bytes, whether their
// methods are on T or on *T and wherever they sit; a struct whose state is
// all unexported (it would arrive empty) is refused at Register, as gob
// refuses it.
func TestRegisteredSelfEncodingTypes(t *testing.T) {
	wire.MustRegister[money]("wire_test.money")
	big1 := new(big.Int).Lsh(big.NewInt(1), 100)
	v := money{Amount: big1, Rate: *big.NewRat(2, 3), ByName: map[string]big.Int{"x": *big.NewInt(-7)},
		Addr: netip.MustParseAddr("10.1.2.3")}
	got, ok := roundTrip(t, v).(money)
	if !ok || got.Amount.Cmp(big1) != 0 || got.Rate.Cmp(&v.Rate) != 0 || got.Addr != v.Addr {
		t.Fatalf("got %+v", got)
	}
	if x := got.ByName["x"]; x.Int64() != -7 {
		t.Fatalf("map value %v", &x)
	}
	if err := wire.Register[locked]("wire_test.locked"); err == nil {
		t.Fatal("a struct holding a sync.Mutex was registered")
	}
	if err := wire.Register[opaque]("wire_test.opaque"); err == nil {
		t.Fatal("a struct of unexported fields only was registered")
	}
}
