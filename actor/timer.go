package actor

import (
	"sync/atomic"
	"time"
)

// TimerRef identifies a timer started by SendAfter.
type TimerRef struct{ t *timer }

type timer struct {
	t     *time.Timer
	owner *Process // the local destination, whose exit cancels the timer
	done  atomic.Bool
}

// SendAfter sends msg to the destination after d, from outside any process. A
// timer whose destination is a local PID is cancelled when that process exits;
// a name is looked up when the timer fires, as erlang:send_after/3 does.
func (n *Node) SendAfter(d time.Duration, to Dest, msg any) TimerRef {
	return n.sendAfter(PID{}, d, to, msg)
}

// SendAfter sends msg to the destination after d, with this process as the
// sender. A killed process starts no timers.
func (p *Process) SendAfter(d time.Duration, to Dest, msg any) TimerRef {
	if p.dead() {
		return TimerRef{t: deadTimer()}
	}
	return p.node.sendAfter(p.pid, d, to, msg)
}

func deadTimer() *timer {
	t := &timer{}
	t.done.Store(true)
	return t
}

// CancelTimer stops a timer. It reports whether the timer was still pending,
// in which case its message will not be sent.
func (n *Node) CancelTimer(ref TimerRef) bool { return cancelTimer(ref) }

// CancelTimer stops a timer; see Node.CancelTimer.
func (p *Process) CancelTimer(ref TimerRef) bool { return cancelTimer(ref) }

func cancelTimer(ref TimerRef) bool {
	t := ref.t
	if t == nil || !t.done.CompareAndSwap(false, true) {
		return false
	}
	t.t.Stop()
	if t.owner != nil {
		t.owner.mu.Lock()
		if ext := t.owner.ext; ext != nil {
			delete(ext.timers, t)
		}
		t.owner.mu.Unlock()
	}
	return true
}

func (n *Node) sendAfter(from PID, d time.Duration, to Dest, msg any) TimerRef {
	t := &timer{}
	pid, isPID := to.(PID)
	if isPID {
		t.owner = n.lookup(pid)
	}
	to = qualify(to, n.name)
	if t.owner == nil && isPID && pid.Node == n.name {
		// The local destination is already gone: the timer is born cancelled,
		// as it would have been had it existed when the process exited.
		t.done.Store(true)
		return TimerRef{t: t}
	}
	fire := func() {
		if !t.done.CompareAndSwap(false, true) {
			return
		}
		if t.owner != nil {
			t.owner.mu.Lock()
			if ext := t.owner.ext; ext != nil {
				delete(ext.timers, t)
			}
			t.owner.mu.Unlock()
		}
		_ = n.send(nil, from, to, msg)
	}
	if o := t.owner; o != nil {
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			t.done.Store(true)
			return TimerRef{t: t}
		}
		ext := o.extLocked()
		if ext.timers == nil {
			ext.timers = make(map[*timer]struct{})
		}
		ext.timers[t] = struct{}{}
		// Created under the owner's lock so that finish sees it set.
		t.t = time.AfterFunc(d, fire)
		o.mu.Unlock()
		return TimerRef{t: t}
	}
	t.t = time.AfterFunc(d, fire)
	return TimerRef{t: t}
}
