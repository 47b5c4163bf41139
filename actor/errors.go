package actor

import (
	"context"
	"errors"
	"fmt"
)

// Exit reasons. A process's exit reason is an error value; these are the ones the
// runtime itself gives meaning to. Compare with errors.Is, so that a reason that
// wraps one of them (fmt.Errorf("...: %w", actor.Shutdown)) keeps its meaning for
// supervisors.
var (
	// Normal is the reason of a process that finished its work. A normal exit
	// does not kill linked processes.
	Normal = errors.New("normal")
	// Shutdown is the reason a supervisor or a stopping node gives when it
	// ends a process on purpose. Supervisors treat it as a normal exit when
	// deciding on restarts; linked processes that do not trap exits still die.
	Shutdown = errors.New("shutdown")
	// Kill, sent with Exit, ends the target unconditionally: it cannot be
	// trapped. The target's exit reason becomes Killed.
	Kill = errors.New("kill")
	// Killed is the exit reason of a process ended by Kill. Unlike Kill it is an
	// ordinary reason: linked processes may trap it.
	Killed = errors.New("killed")
)

// Errors returned by the runtime's operations.
var (
	// ErrNoProc: the process does not exist (it never did, it has exited, or
	// its PID belongs to an earlier creation of its node). Also used as the
	// reason in a DownMessage or ExitMessage for a process that was already gone.
	ErrNoProc = errors.New("noproc")
	// ErrNoConnection: the process lives on a node this node cannot reach.
	// Also the reason of links and monitors across a lost connection.
	ErrNoConnection = errors.New("noconnection")
	// ErrTimeout: a Call did not get its reply before its context's deadline.
	// errors.Is(ErrTimeout, context.DeadlineExceeded) is true.
	ErrTimeout error = timeoutError{}
	// ErrMailboxFull: the target's mailbox is bounded and holds its maximum.
	ErrMailboxFull = errors.New("mailbox full")
	// ErrNotRegistered: no process is registered under the name. It matches
	// ErrNoProc too, so one check covers a missing process however it was
	// addressed.
	ErrNotRegistered error = &wrapped{"noproc: name not registered", ErrNoProc}
	// ErrNameTaken: the name is registered to another process.
	ErrNameTaken = errors.New("name already registered")
	// ErrAlreadyNamed: the process already has a registered name (the same
	// one included: registering twice is an error, as in Erlang).
	ErrAlreadyNamed = errors.New("process already has a name")
	// ErrDead: the calling process has been killed; what its code still does
	// (sends, calls, replies, spawns) is dropped.
	ErrDead = errors.New("the calling process is dead")
	// ErrMalformed: a destination, From or envelope that names no process
	// (the zero From, an empty name, a reference of no node).
	ErrMalformed = errors.New("malformed destination")
	// ErrNodeStopped: the node is stopping or stopped.
	ErrNodeStopped = errors.New("node stopped")
	// ErrCallSelf: a process called itself, which could never be answered.
	ErrCallSelf = errors.New("process called itself")
	// ErrNoParent: an option needs a spawning process (link, monitor) but the
	// spawn came from outside any process.
	ErrNoParent = errors.New("spawn option needs a parent process")
)

type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

// DestError is the error of an operation on a destination: it names the
// operation, the destination (with its node) and the node the operation was
// made on, and wraps the cause, so errors.Is(err, ErrNoProc), ErrTimeout,
// ErrNoConnection or ErrMailboxFull hold as they would for the bare value.
type DestError struct {
	Op   string // "send", "call", "monitor", "link", "exit", "stop", "resolve"
	Dest Dest   // a local name carries this node's name
	Node string // the node the operation was made on
	Err  error
}

func (e *DestError) Error() string {
	return "actor: " + e.Op + " " + e.Dest.String() + " from " + e.Node + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *DestError) Unwrap() error { return e.Err }

// destError wraps err for an operation on to, made on node n. A local name is
// given n's name so the message says where it was looked up.
func (n *Node) destError(op string, to Dest, err error) error {
	if err == nil {
		return nil
	}
	d := qualify(to, n.name)
	if d == nil {
		d = PID{}
	}
	return &DestError{Op: op, Dest: d, Node: n.name, Err: err}
}

type timeoutError struct{}

func (timeoutError) Error() string { return "timeout" }

// Is makes ErrTimeout match context.DeadlineExceeded.
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// PanicError is the exit reason of a process whose handler panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// ExitError is returned by Call when the called process exits before it
// replies. errors.Is(err, reason) holds for the process's exit reason.
type ExitError struct {
	PID    PID
	Reason error
}

func (e *ExitError) Error() string { return fmt.Sprintf("%s exited: %v", e.PID, e.Reason) }

// Unwrap returns the exit reason.
func (e *ExitError) Unwrap() error { return e.Reason }

// ReplyError is what a caller gets when its callee's reply could not be
// carried to it (it does not encode, or it is larger than a frame): the
// callee's node sends this instead, and logs it.
type ReplyError struct {
	Ref Ref
	Err error
}

func (e *ReplyError) Error() string {
	return "actor: reply " + e.Ref.String() + " not sent: " + e.Err.Error()
}

// Unwrap returns why.
func (e *ReplyError) Unwrap() error { return e.Err }

// IsNormalExit reports whether reason is normal or shutdown (wrapped or not):
// the reasons a supervisor counts as a clean stop.
func IsNormalExit(reason error) bool {
	return reason == nil || errors.Is(reason, Normal) || errors.Is(reason, Shutdown)
}
