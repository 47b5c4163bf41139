package wire_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

func TestErrorRoundTrip(t *testing.T) {
	// exact: the decoded error is the sentinel itself.
	// is: errors.Is(decoded, each) holds.
	tests := []struct {
		name  string
		err   error
		exact error
		is    []error
	}{
		{"normal", actor.Normal, actor.Normal, nil},
		{"shutdown", actor.Shutdown, actor.Shutdown, nil},
		{"kill", actor.Kill, actor.Kill, nil},
		{"killed", actor.Killed, actor.Killed, nil},
		{"noproc", actor.ErrNoProc, actor.ErrNoProc, nil},
		{"noconnection", actor.ErrNoConnection, actor.ErrNoConnection, nil},
		{"timeout", actor.ErrTimeout, actor.ErrTimeout, []error{context.DeadlineExceeded}},
		{"wrapped shutdown", fmt.Errorf("supervisor stopping: %w", actor.Shutdown), nil, []error{actor.Shutdown}},
		{"doubly wrapped noproc", fmt.Errorf("a: %w", fmt.Errorf("b: %w", actor.ErrNoProc)), nil, []error{actor.ErrNoProc}},
		{"wrapped timeout", fmt.Errorf("call: %w", actor.ErrTimeout), nil, []error{actor.ErrTimeout, context.DeadlineExceeded}},
		{"exit error", &actor.ExitError{PID: pidB, Reason: actor.Killed}, nil, []error{actor.Killed}},
		{"joined", errors.Join(errors.New("first"), actor.Normal), nil, []error{actor.Normal}},
		{"registered", errSentinel, errSentinel, nil},
		{"wrapped registered", fmt.Errorf("lookup: %w", errSentinel), nil, []error{errSentinel}},
		{"pre-registered actor error", actor.ErrMailboxFull, actor.ErrMailboxFull, nil},
		{"context canceled", context.Canceled, context.Canceled, nil},
		{"wrapped deadline", fmt.Errorf("db: %w", context.DeadlineExceeded), nil, []error{context.DeadlineExceeded}},
		{"body error", &wire.BodyError{Type: "x", Err: fmt.Errorf("unregistered type x: %w", wire.ErrUnknownType)}, nil, []error{wire.ErrUnknownType}},
		{"reason beats registered", fmt.Errorf("%w: %w", errSentinel, actor.Shutdown), nil, []error{actor.Shutdown}},
		{"unknown", errors.New("disk on fire"), nil, nil},
		{"invalid utf8 text", errors.New("bad \xff text"), nil, nil},
		{"panic", &actor.PanicError{Value: "oops", Stack: []byte("goroutine 1")}, nil, nil},
		{"panic with a reason", &actor.PanicError{Value: fmt.Errorf("gave up: %w", actor.Killed)}, nil, []error{actor.Killed}},
		{"remote error passed on", &wire.RemoteError{Message: "from afar: shutdown", Sentinel: actor.Shutdown}, nil, []error{actor.Shutdown}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := actor.Envelope{Kind: actor.EnvReply, From: pidB, Ref: refA, Reason: tc.err, Message: tc.err}
			data, err := wire.EncodeEnvelope(env)
			if err != nil {
				t.Fatal(err)
			}
			got, err := wire.DecodeEnvelope(data)
			if err != nil {
				t.Fatal(err)
			}
			msg, ok := got.Message.(error)
			if !ok {
				t.Fatalf("message decoded as %T, want an error", got.Message)
			}
			for what, dec := range map[string]error{"reason": got.Reason, "message": msg} {
				if dec.Error() != tc.err.Error() {
					t.Errorf("%s text %q, want %q", what, dec.Error(), tc.err.Error())
				}
				if tc.exact != nil && dec != tc.exact {
					t.Errorf("%s = %#v, want the sentinel itself", what, dec)
				}
				for _, s := range tc.is {
					if !errors.Is(dec, s) {
						t.Errorf("%s %#v: errors.Is(%v) false", what, dec, s)
					}
				}
				if tc.exact == nil {
					var re *wire.RemoteError
					if !errors.As(dec, &re) {
						t.Errorf("%s = %T, want *wire.RemoteError", what, dec)
					}
					if len(tc.is) == 0 && re != nil && re.Sentinel != nil {
						t.Errorf("%s has sentinel %v, want none", what, re.Sentinel)
					}
				}
			}
		})
	}
}

// TestErrorFromNewerPeer decodes error forms this node does not know: a code
// from a later version, a sentinel registered only on the sender.
func TestErrorFromNewerPeer(t *testing.T) {
	tests := []struct {
		name string
		pe   *wirepb.Error
	}{
		{"unknown code", &wirepb.Error{Code: 99, Message: []byte("new reason")}},
		{"unknown registered name", &wirepb.Error{Registered: "theirs: not found", Message: []byte("theirs: not found")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := wire.FrameOf(actor.Envelope{Kind: actor.EnvExit, From: pidA, To: pidB})
			if err != nil {
				t.Fatal(err)
			}
			f.GetEnvelope().Reason = tc.pe
			data, err := wire.EncodeFrame(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := wire.DecodeEnvelope(data)
			if err != nil {
				t.Fatal(err)
			}
			var re *wire.RemoteError
			if !errors.As(got.Reason, &re) || re.Sentinel != nil || re.Message != string(tc.pe.Message) {
				t.Fatalf("reason = %#v, want a plain RemoteError %q", got.Reason, tc.pe.Message)
			}
		})
	}
}
