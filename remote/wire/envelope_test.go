package wire_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// envelopeCases has one envelope of every kind, shaped as the actor package
// sends them.
var envelopeCases = []struct {
	name string
	env  actor.Envelope
}{
	{"message", actor.Envelope{Kind: actor.EnvMessage, From: pidA, To: pidB, Message: "hello"}},
	{"message to name", actor.Envelope{Kind: actor.EnvMessage, From: pidA, ToName: actor.Name{Node: "b@host", Name: "srv"}, Message: []byte("x")}},
	{"message from outside a process", actor.Envelope{Kind: actor.EnvMessage, To: pidB, Message: int64(1)}},
	{"link", actor.Envelope{Kind: actor.EnvLink, From: pidA, To: pidB}},
	{"unlink", actor.Envelope{Kind: actor.EnvUnlink, From: pidA, To: pidB}},
	{"link exit", actor.Envelope{Kind: actor.EnvLinkExit, From: pidA, To: pidB, Reason: actor.Killed}},
	{"exit", actor.Envelope{Kind: actor.EnvExit, From: pidA, To: pidB, Reason: actor.Kill}},
	{"monitor", actor.Envelope{Kind: actor.EnvMonitor, From: pidA, To: pidB, Ref: refA}},
	{"monitor by name", actor.Envelope{Kind: actor.EnvMonitor, From: pidA, ToName: actor.Name{Node: "b@host", Name: "srv"}, Ref: refA}},
	{"demonitor", actor.Envelope{Kind: actor.EnvDemonitor, From: pidA, To: pidB, Ref: refA}},
	{"down", actor.Envelope{Kind: actor.EnvDown, From: pidB, To: pidA, Ref: refA, Reason: actor.ErrNoProc}},
	{"alias down", actor.Envelope{Kind: actor.EnvDown, From: pidB, Ref: refA, Reason: actor.ErrNoConnection, Alias: true}},
	{"call", actor.Envelope{Kind: actor.EnvCall, From: pidA, To: pidB, Ref: refA, Message: actor.CastMessage{Message: "req"}}},
	{"call by name", actor.Envelope{Kind: actor.EnvCall, From: pidA, ToName: actor.Name{Node: "b@host", Name: "srv"}, Ref: refA, Message: []any{"get", 1}}},
	{"reply", actor.Envelope{Kind: actor.EnvReply, From: pidB, Ref: refA, Message: point{X: 1, Owner: pidB}, Cleared: true}},
	{"error reply", actor.Envelope{Kind: actor.EnvReply, From: pidB, Ref: refA, Message: errSentinel}},
	{"shutdown with text", actor.Envelope{Kind: actor.EnvLinkExit, From: pidA, To: pidB, Reason: errors.New("custom")}},
}

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, tc := range envelopeCases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := wire.EncodeEnvelope(tc.env)
			if err != nil {
				t.Fatalf("EncodeEnvelope: %v", err)
			}
			got, err := wire.DecodeEnvelope(data)
			if err != nil {
				t.Fatalf("DecodeEnvelope: %v", err)
			}
			if err := sameEnvelope(tc.env, got); err != nil {
				t.Fatal(err)
			}
			// The one-decode path the remote package takes gives the same.
			f, err := wire.DecodeFrame(data)
			if err != nil {
				t.Fatalf("DecodeFrame: %v", err)
			}
			got2, err := wire.EnvelopeOf(f.GetEnvelope())
			if err != nil {
				t.Fatalf("EnvelopeOf: %v", err)
			}
			if err := sameEnvelope(tc.env, got2); err != nil {
				t.Fatal(err)
			}
			// FrameOf builds the frame EncodeEnvelope encodes, and AppendEnvelope
			// appends the same bytes.
			fo, err := wire.FrameOf(tc.env)
			if err != nil {
				t.Fatalf("FrameOf: %v", err)
			}
			if !proto.Equal(fo, f) {
				t.Fatalf("FrameOf = %v, decoded %v", fo, f)
			}
			appended, err := wire.AppendEnvelope([]byte("prefix"), tc.env)
			if err != nil || string(appended) != "prefix"+string(data) {
				t.Fatalf("AppendEnvelope = %q, %v; want prefix+%q", appended, err, data)
			}
		})
	}
}

// TestKindsMirrorActor checks that the wire enum numbers actor's kinds.
func TestKindsMirrorActor(t *testing.T) {
	want := map[actor.EnvelopeKind]wirepb.Kind{
		actor.EnvMessage:   wirepb.Kind_KIND_MESSAGE,
		actor.EnvLink:      wirepb.Kind_KIND_LINK,
		actor.EnvUnlink:    wirepb.Kind_KIND_UNLINK,
		actor.EnvLinkExit:  wirepb.Kind_KIND_LINK_EXIT,
		actor.EnvExit:      wirepb.Kind_KIND_EXIT,
		actor.EnvMonitor:   wirepb.Kind_KIND_MONITOR,
		actor.EnvDemonitor: wirepb.Kind_KIND_DEMONITOR,
		actor.EnvDown:      wirepb.Kind_KIND_DOWN,
		actor.EnvCall:      wirepb.Kind_KIND_CALL,
		actor.EnvReply:     wirepb.Kind_KIND_REPLY,
		actor.EnvStop:      wirepb.Kind_KIND_STOP,
		actor.EnvWhereIs:   wirepb.Kind_KIND_WHERE_IS,
	}
	for k, w := range want {
		if wirepb.Kind(k) != w {
			t.Errorf("actor kind %d is wire %v, want %v", k, wirepb.Kind(k), w)
		}
	}
	if n := len(wirepb.Kind_name); n != len(want)+1 {
		t.Errorf("wire has %d kinds, actor %d (+1 unspecified)", n, len(want))
	}
}

func TestEncodeEnvelopeErrors(t *testing.T) {
	tests := []struct {
		name string
		env  actor.Envelope
	}{
		{"zero kind", actor.Envelope{To: pidB, Message: "x"}},
		{"kind past the last", actor.Envelope{Kind: actor.LastEnvelopeKind + 1, To: pidB}},
		{"invalid utf8 node", actor.Envelope{Kind: actor.EnvMessage, To: actor.PID{Node: "\xff", ID: 1}}},
		{"invalid utf8 name", actor.Envelope{Kind: actor.EnvMessage, ToName: actor.Name{Name: "\xfe"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wire.EncodeEnvelope(tc.env)
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			var body *wire.BodyError
			if errors.As(err, &body) {
				t.Fatalf("err = %v is a *BodyError; the header is at fault", err)
			}
		})
	}
}

// frameWith encodes env with its message replaced by v: a way to send what
// this node could not encode itself, as a peer with other registrations
// would.
func frameWith(t testing.TB, env actor.Envelope, v *wirepb.Value) []byte {
	t.Helper()
	f, err := wire.FrameOf(env)
	if err != nil {
		t.Fatal(err)
	}
	f.GetEnvelope().Message = v
	data, err := wire.EncodeFrame(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeBodyErrors(t *testing.T) {
	call := actor.Envelope{Kind: actor.EnvCall, From: pidA, To: pidB, Ref: refA}
	tests := []struct {
		name     string
		value    *wirepb.Value
		sentinel error
		typ      string
	}{
		{"unregistered name", registered("other.Type", []byte{1}), wire.ErrUnknownType, "other.Type"},
		{"unknown proto", &wirepb.Value{Kind: &wirepb.Value_Proto{Proto: &wirepb.Proto{Name: "no.such.Message"}}}, wire.ErrUnknownType, "no.such.Message"},
		{"proto garbage", &wirepb.Value{Kind: &wirepb.Value_Proto{Proto: &wirepb.Proto{Name: "google.protobuf.StringValue", Data: []byte{0x0a, 0x05, 'a'}}}}, wire.ErrMalformed, "google.protobuf.StringValue"},
		{"gob garbage", registered("wire_test.point", []byte("not gob")), wire.ErrMalformed, "wire_test.point"},
		{"gob of another type", registered("wire_test.point", gobOf(t, "a string")), wire.ErrMalformed, "wire_test.point"},
		{"codec error", registered("wire_test.ticket", []byte("x")), wire.ErrMalformed, "wire_test.ticket"},
		{"codec panic", registered("wire_test.fragile", []byte("boom")), wire.ErrMalformed, "wire_test.fragile"},
		{"value of unknown kind", &wirepb.Value{}, wire.ErrUnknownType, ""},
		{"unknown kind in a list", list(&wirepb.Value{Kind: &wirepb.Value_Str{Str: "ok"}}, &wirepb.Value{}), wire.ErrUnknownType, ""},
		{"unknown in a cast", &wirepb.Value{Kind: &wirepb.Value_Cast{Cast: &wirepb.Cast{Message: registered("x", nil)}}}, wire.ErrUnknownType, "x"},
		{"int8 out of range", intValue(wirepb.IntKind_INT_KIND_INT8, 200), wire.ErrMalformed, "int8"},
		{"int16 out of range", intValue(wirepb.IntKind_INT_KIND_INT16, -40000), wire.ErrMalformed, "int16"},
		{"int32 out of range", intValue(wirepb.IntKind_INT_KIND_INT32, 1<<31), wire.ErrMalformed, "int32"},
		{"unknown int kind", intValue(99, 1), wire.ErrUnknownType, "99"},
		{"uint8 out of range", uintValue(wirepb.UintKind_UINT_KIND_UINT8, 256), wire.ErrMalformed, "uint8"},
		{"uint16 out of range", uintValue(wirepb.UintKind_UINT_KIND_UINT16, 1<<16), wire.ErrMalformed, "uint16"},
		{"uint32 out of range", uintValue(wirepb.UintKind_UINT_KIND_UINT32, 1<<32), wire.ErrMalformed, "uint32"},
		{"unknown uint kind", uintValue(7, 1), wire.ErrUnknownType, "7"},
		{"too deep", nested(wire.MaxDepth + 1), wire.ErrMalformed, "[]any"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wire.DecodeEnvelope(frameWith(t, call, tc.value))
			var body *wire.BodyError
			if !errors.As(err, &body) {
				t.Fatalf("err = %v (%T), want *BodyError", err, err)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
			if body.Type != tc.typ {
				t.Fatalf("Type = %q, want %q (err %v)", body.Type, tc.typ, err)
			}
			if !strings.HasPrefix(err.Error(), "wire: ") {
				t.Fatalf("err = %q, want the wire: prefix", err)
			}
			call.Message = nil
			if err := sameEnvelope(call, got); err != nil {
				t.Fatalf("header lost: %v", err)
			}
		})
	}
	if _, err := wire.DecodeEnvelope(frameWith(t, call, nested(wire.MaxDepth))); err != nil {
		t.Fatalf("nesting %d deep: %v", wire.MaxDepth, err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	good, err := wire.EncodeEnvelope(envelopeCases[0].env)
	if err != nil {
		t.Fatal(err)
	}
	hello, err := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Hello{Hello: &wirepb.Hello{Name: "a@host"}}})
	if err != nil {
		t.Fatal(err)
	}
	envFrame := func(pe *wirepb.Envelope) []byte {
		b, err := proto.Marshal(&wirepb.Frame{Body: &wirepb.Frame_Envelope{Envelope: pe}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Frame{envelope: {kind: MESSAGE, to: {node: "\xff", id: 1}}}, which
	// proto.Marshal refuses to produce.
	pid := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte{0xff})
	pid = protowire.AppendVarint(protowire.AppendTag(pid, 3, protowire.VarintType), 1)
	pe := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)
	pe = protowire.AppendBytes(protowire.AppendTag(pe, 3, protowire.BytesType), pid)
	badUTF8 := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), pe)
	if _, err := wire.DecodeEnvelope(badUTF8); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("invalid UTF-8: err = %v", err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("this is not a frame")},
		{"truncated", good[:len(good)-1]},
		{"trailing garbage", append(append([]byte(nil), good...), 0xff)},
		{"wrong wire type", []byte{0x0d, 0, 0, 0, 0}},
		{"length past the end", []byte{0x0a, 0x7f, 0x08, 0x01}},
		{"not an envelope", hello},
		{"zero kind", envFrame(&wirepb.Envelope{To: &wirepb.Pid{Node: "b", Id: 1}})},
		{"unknown kind", envFrame(&wirepb.Envelope{Kind: wirepb.Kind(actor.LastEnvelopeKind + 1)})},
		{"negative kind", envFrame(&wirepb.Envelope{Kind: -1})},
		{"invalid utf8 node", badUTF8},
		{"unknown body only", []byte{0x3a, 0x00}}, // field 7, a body kind from the future
		{"too deep for the decoder", frameWith(t, actor.Envelope{Kind: actor.EnvMessage}, nested(200))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wire.DecodeEnvelope(tc.data)
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			var body *wire.BodyError
			if errors.As(err, &body) {
				t.Fatalf("err = %v is a *BodyError", err)
			}
		})
	}
	if _, err := wire.EnvelopeOf(nil); !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("EnvelopeOf(nil) = %v, want ErrMalformed", err)
	}
}

func registered(name string, data []byte) *wirepb.Value {
	return &wirepb.Value{Kind: &wirepb.Value_Registered{Registered: &wirepb.Registered{Name: name, Data: data}}}
}

func intValue(kind wirepb.IntKind, v int64) *wirepb.Value {
	return &wirepb.Value{Kind: &wirepb.Value_Int{Int: &wirepb.Int{Kind: kind, Value: v}}}
}

func uintValue(kind wirepb.UintKind, v uint64) *wirepb.Value {
	return &wirepb.Value{Kind: &wirepb.Value_Uint{Uint: &wirepb.Uint{Kind: kind, Value: v}}}
}

func list(items ...*wirepb.Value) *wirepb.Value {
	return &wirepb.Value{Kind: &wirepb.Value_List{List: &wirepb.List{Items: items}}}
}

// nested is a string inside depth lists.
func nested(depth int) *wirepb.Value {
	v := &wirepb.Value{Kind: &wirepb.Value_Str{Str: "bottom"}}
	for range depth {
		v = list(v)
	}
	return v
}
