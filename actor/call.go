package actor

import (
	"context"
	"errors"
)

// NoReply returned as the reply from HandleCall defers the answer: the server
// keeps the From and answers later with Reply (from any process or goroutine).
var NoReply = noReply{}

type noReply struct{}

// callWaiter is where the answer to one Call lands. It is reachable through the
// node's alias table under the call's ref until the first answer (a reply or
// the callee's DOWN) takes it out; later answers find nothing and are dropped.
type callWaiter struct {
	ch   chan callResult
	node string // the callee's node, so that losing it fails the call
}

type callResult struct {
	value  any
	err    error
	down   bool // the callee exited (err is its reason)
	callee PID
	// cleared: the callee itself replied and dropped the call's monitor, so the
	// caller need not send a demonitor.
	cleared bool
}

// newWaiter makes a call waiter for a node's pool. The pool is per node, not
// global, so that a waiter's channel never leaves the node it was made for
// (a channel made inside a testing/synctest bubble must not be used outside it).
func newWaiter() any { return &callWaiter{ch: make(chan callResult, 1)} }

// Call sends req to the process to and waits for its reply, from outside any
// process. It returns the reply, or an error: ErrNoProc if to does not exist,
// the callee's exit reason (as *ExitError) if it exits before replying,
// ErrTimeout when ctx's deadline passes (it matches context.DeadlineExceeded),
// ctx.Err() when ctx is cancelled, ErrNoConnection when to's node cannot be
// reached. A reply that is itself an error value is returned as the error. A
// reply that arrives after Call returned is dropped.
func (n *Node) Call(ctx context.Context, to PID, req any) (any, error) {
	return n.call(ctx, PID{Node: n.name, Creation: n.creation}, to, Name{}, req)
}

// CallName calls the process registered under to.
func (n *Node) CallName(ctx context.Context, to Name, req any) (any, error) {
	return n.call(ctx, PID{Node: n.name, Creation: n.creation}, PID{}, to, req)
}

// Reply answers a Call whose From a server kept (after returning NoReply).
// Replying twice, or after the caller gave up, is harmless: the answer is
// dropped.
func (n *Node) Reply(from From, value any) { n.reply(nil, from, value) }

func (n *Node) call(ctx context.Context, from, to PID, toName Name, req any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err)
	}
	ref := n.MakeRef()
	w := n.waiters.Get().(*callWaiter)
	w.node = to.Node
	if to.IsZero() {
		w.node = toName.Node
	}
	n.aliasMu.Lock()
	n.aliases[ref.ID] = w
	n.aliasMu.Unlock()

	s := &signal{kind: sigCall, alias: true, from: from, ref: ref, msg: req}
	var err error
	callee := to
	switch {
	case to.IsZero() && n.isLocal(toName.Node):
		p := n.whereIs(toName.Name)
		if p == nil {
			err = errors.Join(ErrNoProc, &nameError{toName})
			break
		}
		callee = p.pid
		err = p.enqueue(s, true)
	case to.IsZero():
		err = n.forward(Envelope{Kind: EnvCall, From: from, ToName: toName, Ref: ref, Message: req})
	default:
		err = n.signal(to, s)
	}
	if err != nil {
		if n.takeAlias(ref) != nil {
			n.waiters.Put(w)
		} else {
			// An answer raced in (the callee died at once); take it so the
			// waiter can be reused.
			<-w.ch
			n.waiters.Put(w)
		}
		return nil, err
	}

	var res callResult
	select {
	case res = <-w.ch:
	case <-ctx.Done():
		if n.takeAlias(ref) != nil {
			n.waiters.Put(w)
			if !callee.IsZero() {
				_ = n.signal(callee, &signal{kind: sigDemonitor, from: from, ref: ref})
			}
			return nil, ctxError(ctx.Err())
		}
		res = <-w.ch
	}
	n.waiters.Put(w)
	if res.down {
		// A callee that was never there is noproc, and a lost connection is
		// noconnection; a callee that ran and exited gives its reason, even
		// when that reason is itself noconnection (a link across a lost
		// connection killed it).
		if res.err == ErrNoProc || res.callee.IsZero() {
			return nil, res.err
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

type nameError struct{ name Name }

func (e *nameError) Error() string { return "name " + e.name.String() + " not registered" }

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
func (n *Node) reply(replier *Process, from From, value any) {
	res := callResult{value: value}
	if replier != nil {
		replier.mu.Lock()
		if w, ok := replier.monIn[from.Ref]; ok && w.alias {
			delete(replier.monIn, from.Ref)
			res.cleared = true
			// Only the callee holds the call's monitor. Another replier must
			// not name itself, or the caller's demonitor would go to it and
			// the callee would keep the monitor for good.
			res.callee = replier.pid
		}
		replier.mu.Unlock()
	}
	n.deliverCallResult(from.Ref, res)
}

// deliverCallResult hands an answer to the waiter named by ref, on this node or
// through the remote layer.
func (n *Node) deliverCallResult(ref Ref, res callResult) {
	if ref.Node != n.name {
		env := Envelope{Kind: EnvReply, Ref: ref, From: res.callee, Message: res.value, Cleared: res.cleared}
		if res.down {
			env.Kind, env.Reason, env.Message = EnvDown, res.err, nil
			env.Alias = true
		}
		_ = n.forward(env)
		return
	}
	if ref.Creation != n.creation {
		return
	}
	if w := n.takeAlias(ref); w != nil {
		w.ch <- res
	}
}
