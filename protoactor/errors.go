package protoactor

import (
	"errors"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/protoactor/bridgepb"
)

// The kinds of a bridgepb.Error, and the errors they stand for.
var errorKinds = []struct {
	kind string
	err  error
}{
	{"noproc", actor.ErrNoProc},
	{"timeout", actor.ErrTimeout},
	{"noconnection", actor.ErrNoConnection},
	{"mailbox_full", actor.ErrMailboxFull},
	{"not_proto", ErrNotProto},
	{"busy", ErrBusy},
}

// errorProto is err as it crosses Proto.Actor's remote.
func errorProto(err error) *bridgepb.Error {
	e := &bridgepb.Error{Kind: "other", Message: err.Error()}
	var exit *actor.ExitError
	if errors.As(err, &exit) {
		e.Kind = "exit"
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			e.Kind = k.kind
			break
		}
	}
	return e
}

// RemoteError is an error that came back across Proto.Actor's remote from a
// bridge on another gotp node; errors.Is matches the sentinel its kind names
// (actor.ErrNoProc, actor.ErrTimeout, ErrBusy, ...).
type RemoteError struct {
	Kind    string
	Message string
}

func (e *RemoteError) Error() string { return e.Message }

// Is matches the sentinel of the error's kind.
func (e *RemoteError) Is(target error) bool {
	for _, k := range errorKinds {
		if k.kind == e.Kind && target == k.err {
			return true
		}
	}
	return false
}

func errorOf(e *bridgepb.Error) error {
	return &RemoteError{Kind: e.GetKind(), Message: e.GetMessage()}
}
