package supervisor

import (
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
)

// Errors of the supervisor API, OTP's {error, ...} atoms. Compare with
// errors.Is.
var (
	// ErrAlreadyPresent: StartChild found a child spec with that ID that is
	// not running.
	ErrAlreadyPresent = errors.New("supervisor: already_present")
	// ErrAlreadyStarted: StartChild found a running child with that ID. The
	// error returned is an *AlreadyStartedError carrying the child's PID.
	ErrAlreadyStarted = errors.New("supervisor: already_started")
	// ErrRunning: RestartChild or DeleteChild on a child that is running.
	ErrRunning = errors.New("supervisor: running")
	// ErrRestarting: RestartChild or DeleteChild on a child whose restart
	// failed and is being retried.
	ErrRestarting = errors.New("supervisor: restarting")
	// ErrNotFound: no child with that ID (or PID).
	ErrNotFound = errors.New("supervisor: not_found")
	// ErrSimpleOneForOne: the operation is not valid for a SimpleOneForOne
	// supervisor (StartChild with a spec, TerminateChild by ID, RestartChild,
	// DeleteChild).
	ErrSimpleOneForOne = errors.New("supervisor: simple_one_for_one")
	// ErrNotSimpleOneForOne: StartChildArgs on a supervisor whose strategy is
	// not SimpleOneForOne.
	ErrNotSimpleOneForOne = errors.New("supervisor: not simple_one_for_one")
	// ErrInvalidSpec: a Spec or ChildSpec failed validation.
	ErrInvalidSpec = errors.New("supervisor: invalid spec")
	// ErrReachedMaxRestartIntensity is the exit reason of a supervisor that
	// had to restart children more often than its Intensity allows within its
	// Period. As in OTP the supervisor exits with shutdown:
	// errors.Is(reason, actor.Shutdown) holds, so a parent supervisor treats
	// it as a shutdown (it restarts a Permanent child supervisor, and not a
	// Transient one).
	ErrReachedMaxRestartIntensity = fmt.Errorf("%w: reached_max_restart_intensity", actor.Shutdown)
)

// AlreadyStartedError is StartChild's error for a child that is running
// already: OTP's {error, {already_started, Pid}}. It matches
// ErrAlreadyStarted.
type AlreadyStartedError struct {
	PID actor.PID
}

func (e *AlreadyStartedError) Error() string {
	return "supervisor: already_started: " + e.PID.String()
}

// Is makes the error match ErrAlreadyStarted.
func (e *AlreadyStartedError) Is(target error) bool { return target == ErrAlreadyStarted }

// StartError reports a child whose start function failed: OTP's
// {failed_to_start_child, Id, Reason}. It is the error of Start or StartLink
// when a child fails to start with the supervisor, and of StartChild,
// StartChildArgs and RestartChild when the start fails. Err is the start
// function's error; errors.Is and errors.As see through to it.
type StartError struct {
	ID  string
	Err error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("supervisor: failed to start child %q: %v", e.ID, e.Err)
}

// Unwrap returns the start function's error.
func (e *StartError) Unwrap() error { return e.Err }
