package actor

import "errors"

// Behavior is the code of a plain process: Receive is called once per message,
// in order, on the process's own goroutine. Returning a non-nil error ends the
// process with that error as its exit reason (return Normal to finish
// cleanly). Besides user messages a process may receive ExitMessage (when it
// traps exits), DownMessage, NodeDownMessage, CallRequest and CastMessage.
type Behavior interface {
	Receive(p *Process, msg any) error
}

// Initializer is implemented by behaviors that need to set up before their first
// message. Init runs before Spawn returns; an error from it is returned by Spawn
// and leaves no process or registered name behind.
type Initializer interface {
	Init(p *Process) error
}

// Terminator is implemented by behaviors that clean up when they stop. Terminate
// runs when the process ends itself (an error from a handler, a panic) or when
// its node stops; like Erlang, not when an exit signal kills a process that does
// not trap exits. A gen_server that traps exits also terminates (and so runs
// Terminate) when its parent exits.
type Terminator interface {
	Terminate(p *Process, reason error)
}

// Func adapts a function to a Behavior.
type Func func(p *Process, msg any) error

// Receive calls f.
func (f Func) Receive(p *Process, msg any) error { return f(p, msg) }

// Ignore returned by Init makes Spawn return (zero PID, Ignore) without leaving a
// process: a supervisor records such a child as not running and carries on,
// like OTP's ignore.
var Ignore = errors.New("ignore")
