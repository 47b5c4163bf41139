package wire_test

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

func gobOf(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type (
	freshA  struct{ A int }
	freshB  struct{ B int }
	anIface interface{ M() }
)

// freshA is registered once per test binary, so the test below can run with
// -count above 1.
var _ = wire.Register[freshA]("wire_test.freshA")

func TestRegisterRejects(t *testing.T) {
	tests := []struct {
		name      string
		register  func() error
		duplicate bool
	}{
		{"same name again", func() error { return wire.Register[freshB]("wire_test.freshA") }, true},
		{"same type again", func() error { return wire.Register[freshA]("wire_test.freshA2") }, true},
		{"pointer of a registered type", func() error { return wire.Register[*freshA]("wire_test.freshAptr") }, true},
		{"empty name", func() error { return wire.Register[freshB]("") }, false},
		{"invalid utf8 name", func() error { return wire.Register[freshB]("\xff") }, false},
		{"string", func() error { return wire.Register[string]("wire_test.string") }, false},
		{"pid", func() error { return wire.Register[actor.PID]("wire_test.pid") }, false},
		{"any slice", func() error { return wire.Register[[]any]("wire_test.list") }, false},
		{"interface", func() error { return wire.Register[anIface]("wire_test.iface") }, false},
		{"proto message", func() error { return wire.Register[*wrapperspb.StringValue]("wire_test.sv") }, false},
		{"proto message struct", func() error { return wire.Register[wrapperspb.StringValue]("wire_test.sv") }, false},
		{"nil codec", func() error { return wire.RegisterCodec[freshB]("wire_test.freshB", nil, nil) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.register()
			if err == nil {
				t.Fatal("registered")
			}
			if errors.Is(err, wire.ErrDuplicate) != tc.duplicate {
				t.Fatalf("err = %v; ErrDuplicate %v", err, tc.duplicate)
			}
		})
	}
}

func TestMustRegisterPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	wire.MustRegister[point]("wire_test.point")
}

func TestRegisterError(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"nil", nil},
		{"same text as a registered one", errors.New("wire_test: sentinel")},
		{"runtime reason", actor.Shutdown},
		{"pre-registered", actor.ErrMailboxFull},
		{"empty text", errors.New("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := wire.RegisterError(tc.err); err == nil {
				t.Fatal("registered")
			}
		})
	}
	if err := wire.RegisterError(actor.Shutdown); !errors.Is(err, wire.ErrDuplicate) {
		t.Fatalf("err = %v, want ErrDuplicate", err)
	}
}

// TestRegisterWhileEncoding runs registrations alongside encoding and
// decoding, for the race detector.
func TestRegisterWhileEncoding(t *testing.T) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 50 {
			_ = wire.RegisterError(fmt.Errorf("wire_test: concurrent %d", i))
		}
	}()
	go func() {
		defer wg.Done()
		for range 50 {
			data, err := wire.EncodeEnvelope(actor.Envelope{Kind: actor.EnvMessage, To: pidB, Message: point{X: 1}, Reason: errSentinel})
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := wire.DecodeEnvelope(data); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
}
