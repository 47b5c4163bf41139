package actor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// NoReply returned as the reply from HandleCall defers the answer: the server
// keeps the From and answers later with Reply (from any process or goroutine).
var NoReply = noReply{}

type noReply struct{}

// Caller makes calls: an *actor.Node from outside any process, or an
// *actor.Process from within its own callbacks. Packages whose API is calls to
// a process (supervisor, rafted, ...) take one.
type Caller interface {
	Call(ctx context.Context, to Dest, req any) (any, error)
}

var (
	_ Caller = (*Node)(nil)
	_ Caller = (*Process)(nil)
)

// CallAs calls to and returns the reply as a T. A reply of another type is an
// error naming both types.
func CallAs[T any](ctx context.Context, c Caller, to Dest, req any) (T, error) {
	var zero T
	v, err := c.Call(ctx, to, req)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok && v != nil {
		return zero, fmt.Errorf("actor: call %s: reply is %T, not %T", to, v, zero)
	}
	return t, nil
}

type noCallTimeoutKey struct{}

// WithoutCallTimeout returns a context under which a Call with no deadline
// waits as long as it takes (gen_server's infinity) instead of the node's
// DefaultCallTimeout. Supervisor calls use it, as OTP's do.
func WithoutCallTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, noCallTimeoutKey{}, true)
}

// callWaiter is where the answer to one Call lands. It is reachable through the
// node's alias table under the call's ref until the first answer (a reply or
// the callee's DOWN) takes it out; later answers find nothing and are dropped.
type callWaiter struct {
	ch    chan callResult
	node  string // the callee's node, so that losing it fails the call
	timed bool   // under the default call timeout, started at sweep tick
	tick  uint64
}

type callResult struct {
	value  any
	err    error
	down   bool // the callee exited (err is its reason)
	callee PID
	// cleared: the callee itself replied and dropped the call's monitor, so the
	// caller need not send a demonitor.
	cleared bool
	// timedOut: the node's sweeper ended the call at its default deadline.
	timedOut bool
}

// newWaiter makes a call waiter for a node's pool. The pool is per node, not
// global, so that a waiter's channel never leaves the node it was made for
// (a channel made inside a testing/synctest bubble must not be used outside it).
func newWaiter() any { return &callWaiter{ch: make(chan callResult, 1)} }

// Call sends req to the process to (a PID or a name, local or remote) and waits
// for its reply, from outside any process. It returns the reply, or an error:
// the callee's exit reason (as *ExitError) if it exits before replying, or a
// *DestError naming the callee that matches ErrNoProc (ErrNotRegistered for a
// name nobody holds), ErrTimeout when the deadline passes (it matches
// context.DeadlineExceeded too), ctx.Err() when ctx is cancelled,
// ErrNoConnection when to's node cannot be reached, ErrMailboxFull for a full
// bounded mailbox. A ctx without a deadline gets the node's
// DefaultCallTimeout. A reply that is itself an error value is returned as the
// error. A reply that arrives after Call returned is dropped.
func (n *Node) Call(ctx context.Context, to Dest, req any) (any, error) {
	return n.call(ctx, nil, n.nodePID(), to, req)
}

// Reply answers a Call whose From a server kept (after returning NoReply).
// Replying twice, or after the caller gave up, is harmless: the answer is
// dropped. A zero or malformed From is ErrMalformed.
func (n *Node) Reply(from From, value any) error { return n.reply(nil, from, value) }

// StopProcess stops the process to as gen_server:stop/3 does: the process
// exits with reason once it reaches the request in its mailbox, running
// Terminate, and StopProcess returns when it is gone. It returns nil when the
// process exited with reason, its other exit reason as *ExitError, or a
// *DestError (ErrNoProc, ErrTimeout, ...) as Call does.
func (n *Node) StopProcess(ctx context.Context, to Dest, reason error) error {
	if reason == nil {
		reason = Normal
	}
	_, err := n.request(ctx, nil, n.nodePID(), to, "stop", &signal{kind: sigStopProc, alias: true, reason: reason})
	var exit *ExitError
	if errors.As(err, &exit) && errors.Is(exit.Reason, reason) {
		return nil
	}
	return err
}

// Resolve returns the PID a destination names now: a PID is itself (if the
// process is alive, on this node), a name is looked up on its node, across the
// network for another node, as whereis/1 run there. A name nobody holds is
// ErrNotRegistered.
func (n *Node) Resolve(ctx context.Context, to Dest) (PID, error) {
	switch d := to.(type) {
	case PID:
		if p := n.lookup(d); d.Node == n.name && (p == nil || p.dead()) {
			return PID{}, n.destError("resolve", d, ErrNoProc)
		}
		return d, nil
	case Name:
		if n.isLocal(d.Node) {
			if pid, ok := n.WhereIs(d.Name); ok {
				return pid, nil
			}
			return PID{}, n.destError("resolve", d, ErrNotRegistered)
		}
		v, err := n.request(ctx, nil, n.nodePID(), d, "resolve", &signal{kind: sigWhereIs})
		if err != nil {
			return PID{}, err
		}
		if pid, ok := v.(PID); ok && !pid.IsZero() {
			return pid, nil
		}
		return PID{}, n.destError("resolve", d, ErrNotRegistered)
	}
	return PID{}, n.destError("resolve", PID{}, ErrMalformed)
}

func (n *Node) call(ctx context.Context, caller *Process, from PID, to Dest, req any) (any, error) {
	if obs := n.callObserver.Load(); obs != nil {
		start := time.Now()
		v, err := n.request(ctx, caller, from, to, "call", newCallSignal(req))
		(*obs)(time.Since(start), err)
		return v, err
	}
	return n.request(ctx, caller, from, to, "call", newCallSignal(req))
}

// ObserveCalls has fn called after every Call made on this node (by a process
// or from outside one) with how long it took and its error, so that metrics
// can count calls and their latency; nil stops it. One observer at a time:
// the last set wins. fn runs on the caller's goroutine and must be quick.
func (n *Node) ObserveCalls(fn func(d time.Duration, err error)) {
	if fn == nil {
		n.callObserver.Store(nil)
		return
	}
	n.callObserver.Store(&fn)
}

// callSignals recycles call requests: a call's signal is handed to the
// callee, which is done with it once the call is handled, so a server under a
// stream of calls allocates none.
var callSignals = sync.Pool{New: func() any { return new(signal) }}

func newCallSignal(req any) *signal {
	s := callSignals.Get().(*signal)
	s.kind, s.alias, s.msg = sigCall, true, req
	return s
}

// releaseCallSignal gives back a call request its callee has handled.
func releaseCallSignal(s *signal) {
	*s = signal{}
	callSignals.Put(s)
}

// request sends s (a call, a stop or a name lookup) under a fresh alias and
// waits for the answer. caller, when the request comes from a process, is
// checked to be alive while the request goes out.
func (n *Node) request(ctx context.Context, caller *Process, from PID, to Dest, op string, s *signal) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, n.destError(op, to, ctxError(err))
	}
	ref := n.MakeRef()
	s.from, s.ref = from, ref
	w := n.waiters.Get().(*callWaiter)
	w.node = destNode(to)
	w.timed = false
	_, hasDeadline := ctx.Deadline()
	n.aliasMu.Lock()
	n.aliases[ref.ID] = w
	if !hasDeadline && n.callTimeout > 0 && ctx.Value(noCallTimeoutKey{}) == nil {
		n.armDeadlineLocked(w)
	}
	n.aliasMu.Unlock()

	s.sender = caller
	callee, _ := to.(PID)
	callee, err := n.sendRequest(callee, to, s)
	if err != nil {
		if n.takeAlias(ref) == nil {
			// An answer raced in (the callee died at once); take it so the
			// waiter can be reused.
			<-w.ch
		}
		n.waiters.Put(w)
		return nil, n.destError(op, to, err)
	}

	var res callResult
	if done := ctx.Done(); done == nil {
		// A ctx that can never end needs no select.
		res = <-w.ch
	} else {
		select {
		case res = <-w.ch:
		case <-done:
			if n.takeAlias(ref) != nil {
				n.waiters.Put(w)
				n.dropCallMonitor(callee, from, ref)
				return nil, n.destError(op, to, ctxError(ctx.Err()))
			}
			res = <-w.ch
		}
	}
	if res.timedOut {
		n.waiters.Put(w)
		n.dropCallMonitor(callee, from, ref)
		return nil, n.destError(op, to, ErrTimeout)
	}
	n.waiters.Put(w)
	if res.down {
		// A callee that was never there is noproc, and a lost connection is
		// noconnection; a callee that ran and exited gives its reason, even
		// when that reason is itself noconnection (a link across a lost
		// connection killed it).
		if res.callee.IsZero() || res.notStarted() {
			return nil, n.destError(op, to, res.err)
		}
		return nil, &ExitError{PID: res.callee, Reason: res.err}
	}
	if !res.cleared {
		target := res.callee
		if target.IsZero() {
			target = callee
		}
		if !target.IsZero() {
			_ = n.signal(target, &signal{kind: sigDemonitor, from: from, ref: ref})
		}
	}
	if e, ok := res.value.(error); ok {
		return nil, e
	}
	return res.value, nil
}

// dropCallMonitor asks the callee of a call given up to forget its monitor.
func (n *Node) dropCallMonitor(callee, from PID, ref Ref) {
	if !callee.IsZero() {
		_ = n.signal(callee, &signal{kind: sigDemonitor, from: from, ref: ref})
	}
}

// notStarted reports whether a noproc DOWN for a request means the callee was
// never there (answered for a missing process) rather than a process that ran
// and exited with reason noproc.
func (res callResult) notStarted() bool { return res.err == ErrNoProc || res.err == ErrNotRegistered }

// sendRequest delivers a request signal to its destination and returns the
// callee's PID when it is known here.
func (n *Node) sendRequest(callee PID, to Dest, s *signal) (PID, error) {
	switch d := to.(type) {
	case PID:
		return callee, n.signal(d, s)
	case Name:
		if d.Name == "" {
			return callee, ErrNotRegistered
		}
		if !n.isLocal(d.Node) {
			return callee, n.forwardFrom(s.sender, envelopeOf(PID{}, d, s))
		}
		p := n.whereIs(d.Name)
		if p == nil {
			return callee, ErrNotRegistered
		}
		return p.pid, p.accept(s)
	}
	return callee, ErrNoProc
}

func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	return err
}

func (n *Node) takeAlias(ref Ref) *callWaiter {
	n.aliasMu.Lock()
	w := n.aliases[ref.ID]
	delete(n.aliases, ref.ID)
	n.aliasMu.Unlock()
	return w
}

// reply answers a call. When the replier is the callee itself it drops the
// call's monitor on the spot, sparing the caller a demonitor.
func (n *Node) reply(replier *Process, from From, value any) error {
	if from.Ref.Node == "" || from.Ref.ID == 0 {
		return ErrMalformed
	}
	res := callResult{value: value}
	if replier != nil {
		replier.mu.Lock()
		if replier.takeCallerLocked(from.Ref) {
			res.cleared = true
			// Only the callee holds the call's monitor. Another replier must
			// not name itself, or the caller's demonitor would go to it and
			// the callee would keep the monitor for good.
			res.callee = replier.pid
		}
		replier.mu.Unlock()
	}
	return n.deliverCallResult(from.Ref, res, replier)
}

// deliverCallResult hands an answer to the waiter named by ref, on this node or
// through the distribution layer. sender is the local process whose code
// answers, if any: a dead one's answer is dropped (its caller gets its DOWN).
func (n *Node) deliverCallResult(ref Ref, res callResult, sender *Process) error {
	if ref.Node == "" || ref.ID == 0 {
		return ErrMalformed
	}
	if ref.Node != n.name {
		env := Envelope{Kind: EnvReply, Ref: ref, From: res.callee, Message: res.value, Cleared: res.cleared}
		if res.down {
			env.Kind, env.Reason, env.Message = EnvDown, res.err, nil
			env.Alias = true
		}
		err := n.forwardFrom(sender, env)
		if err != nil && !res.down && !errors.Is(err, ErrNoConnection) && !errors.Is(err, ErrDead) {
			// The reply itself cannot go (it does not encode, or it is too
			// large): the caller gets why instead of waiting out its deadline.
			n.log.Warn("reply not sent", "ref", ref.String(), "err", err.Error())
			env.Message = &ReplyError{Ref: ref, Err: err}
			err = n.forwardFrom(sender, env)
		}
		return err
	}
	if ref.Creation != n.creation {
		return nil
	}
	n.aliasMu.Lock()
	if sender != nil && sender.dead() {
		// Checked under aliasMu, which the dead process's DOWN to this
		// alias takes after the process was declared dead.
		n.aliasMu.Unlock()
		return ErrDead
	}
	w := n.aliases[ref.ID]
	delete(n.aliases, ref.ID)
	n.aliasMu.Unlock()
	if w != nil {
		w.ch <- res
	}
	return nil
}
