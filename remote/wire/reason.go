package wire

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// coded are the runtime's exit reasons, which travel as an ErrorCode.
var coded = [...]struct {
	code wirepb.ErrorCode
	err  error
}{
	{wirepb.ErrorCode_ERROR_CODE_NORMAL, actor.Normal},
	{wirepb.ErrorCode_ERROR_CODE_SHUTDOWN, actor.Shutdown},
	{wirepb.ErrorCode_ERROR_CODE_KILL, actor.Kill},
	{wirepb.ErrorCode_ERROR_CODE_KILLED, actor.Killed},
	{wirepb.ErrorCode_ERROR_CODE_NOPROC, actor.ErrNoProc},
	{wirepb.ErrorCode_ERROR_CODE_NOCONNECTION, actor.ErrNoConnection},
	{wirepb.ErrorCode_ERROR_CODE_TIMEOUT, actor.ErrTimeout},
}

func init() {
	for _, err := range []error{
		actor.ErrMailboxFull, actor.ErrNotRegistered, actor.ErrNameTaken,
		actor.ErrAlreadyNamed, actor.ErrNodeStopped, actor.ErrCallSelf, actor.ErrNoParent,
		actor.ErrDead, actor.ErrMalformed,
		context.Canceled, context.DeadlineExceeded,
		ErrUnknownType, ErrMalformed,
	} {
		MustRegisterError(err)
	}
}

// RegisterError makes err, an application's sentinel error, keep its identity
// across nodes. An error that is err or wraps it (errors.Is) is sent with
// err's name, which is its text, err.Error(); a node that registered an error
// with the same text decodes it as that error (when the text is all there is)
// or as a *RemoteError that wraps it, so errors.Is(decoded, err) holds on
// both sides. Register the same sentinels on every node.
//
// The runtime's exit reasons (actor.Normal, actor.Shutdown, actor.Kill,
// actor.Killed, actor.ErrNoProc, actor.ErrNoConnection, actor.ErrTimeout)
// are built in. A registered error that wraps one of them keeps its own
// identity (and so the runtime reason's too). Registered from the start: the actor package's other errors,
// context.Canceled, context.DeadlineExceeded, ErrUnknownType and
// ErrMalformed.
//
// When an error matches several sentinels, the runtime's reasons come first,
// then registered errors in the order they were registered. RegisterError
// returns an error wrapping ErrDuplicate if an error with the same text is
// registered already.
func RegisterError(err error) error {
	if err == nil {
		return errors.New("wire: register nil error")
	}
	name := err.Error()
	if name == "" || !utf8.ValidString(name) {
		return fmt.Errorf("wire: register error %q: its text must be non-empty UTF-8", name)
	}
	for _, c := range coded {
		if c.err == err {
			return fmt.Errorf("wire: register error %q: a runtime reason is built in: %w", name, ErrDuplicate)
		}
	}
	return update(func(r *registry) error {
		if _, ok := r.errByName[name]; ok {
			return fmt.Errorf("wire: register error %q: %w", name, ErrDuplicate)
		}
		r.errByName[name] = err
		r.errs = append(r.errs, err)
		return nil
	})
}

// MustRegisterError is RegisterError for package variables: it panics on
// error and returns err, so that
//
//	var ErrNotFound = wire.MustRegisterError(errors.New("myapp: not found"))
//
// declares and registers a sentinel at once.
func MustRegisterError(err error) error {
	if e := RegisterError(err); e != nil {
		panic(e)
	}
	return err
}

// classifyError finds the runtime reason or registered error that err is or
// wraps: its code, or its registered name. A registered error that itself
// wraps a runtime reason (actor.ErrNotRegistered is a noproc) is the more
// precise name and is tried first.
func classifyError(err error) (wirepb.ErrorCode, string) {
	for _, s := range loadRegistry().errs {
		if errors.Is(err, s) && isRuntimeReason(s) {
			return wirepb.ErrorCode_ERROR_CODE_UNSPECIFIED, s.Error()
		}
	}
	for _, c := range coded {
		if errors.Is(err, c.err) {
			return c.code, ""
		}
	}
	for _, s := range loadRegistry().errs {
		if errors.Is(err, s) {
			return wirepb.ErrorCode_ERROR_CODE_UNSPECIFIED, s.Error()
		}
	}
	return wirepb.ErrorCode_ERROR_CODE_UNSPECIFIED, ""
}

func isRuntimeReason(err error) bool {
	for _, c := range coded {
		if errors.Is(err, c.err) {
			return true
		}
	}
	return false
}

func errorProto(err error) *wirepb.Error {
	code, name := classifyError(err)
	return &wirepb.Error{Code: code, Message: []byte(err.Error()), Registered: name}
}

// errorOf is the Go error for pe; nil for nil. It never fails: what it does
// not recognize becomes a *RemoteError with the text.
func errorOf(pe *wirepb.Error) error {
	if pe == nil {
		return nil
	}
	return errorOfParts(pe.GetCode(), pe.GetMessage(), []byte(pe.GetRegistered()))
}

func errorOfParts(code wirepb.ErrorCode, text, registered []byte) error {
	var sentinel error
	if code != wirepb.ErrorCode_ERROR_CODE_UNSPECIFIED {
		for _, c := range coded {
			if c.code == code {
				sentinel = c.err
				break
			}
		}
	} else if len(registered) > 0 {
		sentinel = loadRegistry().errByName[string(registered)]
	}
	if sentinel != nil && string(text) == sentinel.Error() {
		return sentinel
	}
	return &RemoteError{Message: string(text), Sentinel: sentinel}
}
