package wire_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

var (
	pidA = actor.PID{Node: "a@host", Creation: 7, ID: 42}
	pidB = actor.PID{Node: "b@host", Creation: 9, ID: 1 << 40}
	refA = actor.Ref{Node: "a@host", Creation: 7, ID: 1001}
)

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}

// valueCases is every kind of value the wire carries, each with its Go type.
var valueCases = []struct {
	name  string
	value any
}{
	{"nil", nil},
	{"string", "hello"},
	{"empty string", ""},
	{"unicode string", "héllo, 世界"},
	{"invalid utf8 string", "a\xffb\xc0"},
	{"bytes", []byte{0, 1, 2, 255}},
	{"empty bytes", []byte{}},
	{"true", true},
	{"false", false},
	{"int", int(-42)},
	{"int zero", int(0)},
	{"int min", int(math.MinInt)},
	{"int8", int8(-128)},
	{"int16", int16(math.MaxInt16)},
	{"int32", int32(math.MinInt32)},
	{"int64", int64(math.MaxInt64)},
	{"uint", uint(math.MaxUint)},
	{"uint8", uint8(255)},
	{"uint16", uint16(65535)},
	{"uint32", uint32(math.MaxUint32)},
	{"uint64", uint64(math.MaxUint64)},
	{"float64", 3.25},
	{"float64 inf", math.Inf(-1)},
	{"float64 nan", math.NaN()},
	{"float32", float32(1.5)},
	{"float32 negative zero", float32(math.Copysign(0, -1))},
	{"pid", pidA},
	{"zero pid", actor.PID{}},
	{"ref", refA},
	{"name", actor.Name{Node: "b@host", Name: "server"}},
	{"local name", actor.Name{Name: "server"}},
	{"error", errors.New("boom")},
	{"reason as value", actor.Shutdown},
	{"cast", actor.CastMessage{Message: "ping"}},
	{"cast of nil", actor.CastMessage{}},
	{"cast of cast", actor.CastMessage{Message: actor.CastMessage{Message: int16(3)}}},
	{"empty list", []any{}},
	{"list", []any{"a", int8(1), nil, []any{pidB, true}, []byte("x"), actor.CastMessage{Message: 1.5}}},
	{"proto string", wrapperspb.String("hi")},
	{"proto duration", durationpb.New(90 * time.Second)},
	{"proto struct", mustStruct(map[string]any{"a": 1.0, "b": []any{"x", true}, "c": nil})},
	{"registered struct", point{X: 1, Y: -2, Label: "p", Owner: pidA, Ref: refA, Name: actor.Name{Node: "a@host", Name: "reg"}, Tags: []string{"t"}}},
	{"registered zero struct", point{}},
	{"registered pointer", &point{X: 3, Owner: pidB}},
	{"registered named float", celsius(21.5)},
	{"registered codec", ticket(12345)},
	{"registered codec to bytes", blob("raw \xff")},
	{"registered codec to nothing", blob("")},
	{"registered error type", statusError{Code: 404}},
	{"registered in list", []any{celsius(-1), ticket(0)}},
	{"list of lists", []any{"batch", []any{[]any{"m", 1, "n", "h", int64(5), []byte("p"), 2, "r", false}, []any{}, []any{nil}}}},
}

func TestValueRoundTrip(t *testing.T) {
	for _, tc := range valueCases {
		t.Run(tc.name, func(t *testing.T) {
			env := actor.Envelope{Kind: actor.EnvMessage, From: pidA, To: pidB, Message: tc.value}
			data, err := wire.EncodeEnvelope(env)
			if err != nil {
				t.Fatalf("EncodeEnvelope: %v", err)
			}
			got, err := wire.DecodeEnvelope(data)
			if err != nil {
				t.Fatalf("DecodeEnvelope: %v", err)
			}
			if err := sameEnvelope(env, got); err != nil {
				t.Fatal(err)
			}
			if tc.value != nil && reflect.TypeOf(got.Message) != wantType(tc.value) {
				t.Fatalf("decoded as %T, want %v", got.Message, wantType(tc.value))
			}
		})
	}
}

// wantType is the Go type a value decodes to.
func wantType(v any) reflect.Type {
	switch v.(type) {
	case *point:
		return reflect.TypeFor[point]()
	case statusError:
		return reflect.TypeFor[statusError]()
	case error:
		if v == actor.Shutdown {
			return reflect.TypeOf(actor.Shutdown)
		}
		return reflect.TypeFor[*wire.RemoteError]()
	}
	return reflect.TypeOf(v)
}

func TestEncodeValueErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	deep := any("bottom")
	for range wire.MaxDepth + 1 {
		deep = []any{deep}
	}
	shallow := any("bottom")
	for range wire.MaxDepth {
		shallow = []any{shallow}
	}
	if _, err := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvMessage, Message: shallow}); err != nil {
		t.Fatalf("nesting %d deep: %v", wire.MaxDepth, err)
	}
	tests := []struct {
		name     string
		value    any
		sentinel error
		text     string
	}{
		{"unregistered struct", unregistered{A: 1}, wire.ErrUnknownType, "wire: unregistered type wire_test.unregistered: unknown type"},
		{"unregistered pointer", &unregistered{}, wire.ErrUnknownType, "*wire_test.unregistered"},
		{"map", map[string]int{"a": 1}, wire.ErrUnknownType, "map[string]int"},
		{"typed slice", []string{"a"}, wire.ErrUnknownType, "[]string"},
		{"uintptr", uintptr(1), wire.ErrUnknownType, "uintptr"},
		{"complex", complex(1, 2), wire.ErrUnknownType, "complex128"},
		{"pid pointer", &pidA, wire.ErrUnknownType, "*actor.PID"},
		{"unregistered in list", []any{1, unregistered{}}, wire.ErrUnknownType, "wire_test.unregistered"},
		{"unregistered in cast", actor.CastMessage{Message: struct{}{}}, wire.ErrUnknownType, "struct {}"},
		{"cyclic list", cyclic, wire.ErrMalformed, "nested deeper"},
		{"deep list", deep, wire.ErrMalformed, "nested deeper"},
		{"nil registered pointer", (*point)(nil), wire.ErrMalformed, "nil *wire_test.point"},
		{"codec failure", fragile(13), wire.ErrMalformed, "unlucky"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvMessage, To: pidB, Message: tc.value})
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
			var body *wire.BodyError
			if !errors.As(err, &body) {
				t.Fatalf("err = %T, want *BodyError", err)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %q, want it to contain %q", err, tc.text)
			}
		})
	}
}
