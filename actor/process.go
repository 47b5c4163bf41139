package actor

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Process is a running process as its own code sees it: the handle passed to
// Init, Receive and the gen_server callbacks. Its methods act on behalf of this
// process (as the sender of messages, the holder of links and monitors) and must
// be called only from the process's own callbacks. Other goroutines talk to a
// process through its PID and the Node's methods.
//
// A process has no goroutine while its mailbox is empty; one is started when a
// message arrives and returns when the mailbox drains. An idle process costs a
// few hundred bytes.
type Process struct {
	node     *Node
	pid      PID
	parent   PID
	behavior Behavior

	trapExit atomic.Bool
	remote   atomic.Bool // has links or monitors to other nodes

	// mu guards the mailbox, the registered name and, for introspection, the
	// link and monitor tables (which only the process's goroutine changes).
	mu    sync.Mutex
	queue []any
	spare []any
	bound int32
	// pending counts the entries queued plus those of the batch being
	// handled. It is raised under mu and lowered without it: after each
	// entry for a bounded mailbox, after each batch otherwise.
	pending atomic.Int32
	running bool // a goroutine is (or is about to be) handling the mailbox
	closed  bool // exited; enqueue fails from here on
	name    string

	links    map[PID]struct{}
	monOut   map[Ref]PID     // monitors this process holds: ref -> target
	monIn    map[Ref]watcher // monitors on this process: ref -> who
	nodeMons map[string]int  // node monitors this process holds
	timers   map[*timer]struct{}

	// Set while the process is dying, on its own goroutine.
	exitReason    error
	callTerminate bool
}

type watcher struct {
	pid   PID
	alias bool // a call waiter: the DOWN goes to the alias named by the ref
}

// Self returns the process's PID.
func (p *Process) Self() PID { return p.pid }

// Node returns the node the process runs on.
func (p *Process) Node() *Node { return p.node }

// Parent returns the PID of the process that spawned this one with a link, or
// the zero PID.
func (p *Process) Parent() PID { return p.parent }

// Name returns the process's registered name, or "".
func (p *Process) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name
}

// enqueue appends a message or signal to the mailbox and schedules the process
// if it was idle. Signals are never refused for a full mailbox.
func (p *Process) enqueue(m any, isSignal bool) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrNoProc
	}
	if !isSignal && p.bound > 0 && p.pending.Load() >= p.bound {
		p.mu.Unlock()
		return ErrMailboxFull
	}
	p.queue = append(p.queue, m)
	p.pending.Add(1)
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		go p.run()
	}
	return nil
}

// run handles the mailbox in batches until it is empty or the process exits.
func (p *Process) run() {
	lingered := false
	for {
		p.mu.Lock()
		if len(p.queue) == 0 && !lingered {
			// Yield once before giving the goroutine up: in an exchange the
			// answer often arrives while we wait, and handling it here costs
			// far less than starting a new goroutine for it.
			p.mu.Unlock()
			lingered = true
			runtime.Gosched()
			continue
		}
		if len(p.queue) == 0 {
			p.running = false
			if cap(p.spare) > 64 {
				// Let a burst's buffers go once the process is idle.
				p.queue, p.spare = nil, nil
			}
			p.mu.Unlock()
			return
		}
		batch := p.queue
		p.queue = p.spare[:0]
		p.mu.Unlock()
		// A bounded mailbox needs its count exact after every entry, so a
		// place frees as soon as its message is handled; an unbounded one
		// settles the count once per batch, sparing the producers a cache
		// line that bounces on every message (MailboxLen then counts the
		// current batch until it is done).
		exact := p.bound > 0
		for i, m := range batch {
			batch[i] = nil
			p.handle(m)
			if exact {
				p.pending.Add(-1)
			}
			if p.exitReason != nil {
				p.finish(batch[i+1:])
				return
			}
		}
		if !exact {
			p.pending.Add(-int32(len(batch)))
		}
		p.spare = batch[:0]
		lingered = false
	}
}

// handle processes one mailbox entry.
func (p *Process) handle(m any) {
	if s, ok := m.(*signal); ok {
		p.handleSignal(s)
		return
	}
	p.deliver(m)
}

// deliver passes a message to the behavior; an error or panic ends the process.
func (p *Process) deliver(m any) {
	if err := p.invoke(m); err != nil {
		p.exitReason = err
		p.callTerminate = true
	}
}

func (p *Process) invoke(m any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return p.behavior.Receive(p, m)
}

func (p *Process) handleSignal(s *signal) {
	switch s.kind {
	case sigLink:
		p.addLink(s.from)
	case sigUnlink:
		p.removeLink(s.from)
	case sigLinkExit:
		p.mu.Lock()
		_, linked := p.links[s.from]
		delete(p.links, s.from)
		p.mu.Unlock()
		if linked {
			p.exitSignal(s.from, s.reason, true)
		}
	case sigExit:
		p.exitSignal(s.from, s.reason, false)
	case sigMonitor:
		p.mu.Lock()
		if p.monIn == nil {
			p.monIn = make(map[Ref]watcher)
		}
		p.monIn[s.ref] = watcher{pid: s.from, alias: s.alias}
		p.mu.Unlock()
		p.noteRemote(s.from)
	case sigDemonitor:
		p.mu.Lock()
		delete(p.monIn, s.ref)
		p.mu.Unlock()
	case sigDown:
		p.mu.Lock()
		_, ok := p.monOut[s.ref]
		delete(p.monOut, s.ref)
		p.mu.Unlock()
		if ok {
			p.deliver(DownMessage{Ref: s.ref, PID: s.from, Reason: s.reason})
		}
	case sigCall:
		p.mu.Lock()
		if p.monIn == nil {
			p.monIn = make(map[Ref]watcher)
		}
		p.monIn[s.ref] = watcher{pid: s.from, alias: true}
		p.mu.Unlock()
		p.noteRemote(s.from)
		p.deliver(CallRequest{From: From{PID: s.from, Ref: s.ref}, Request: s.msg})
	case sigStop:
		p.exitReason = s.reason
		p.callTerminate = true
	case sigNodeDown:
		p.nodeDown(s.node)
	}
}

// exitSignal applies Erlang's rules for an exit signal reaching this process.
func (p *Process) exitSignal(from PID, reason error, linked bool) {
	switch {
	case !linked && reason == Kill:
		p.exitReason = Killed
	case p.trapExit.Load():
		p.deliver(ExitMessage{From: from, Reason: reason})
	case reason == Normal:
		if !linked && from == p.pid {
			p.exitReason = Normal
		}
	default:
		p.exitReason = reason
		// While the node stops, a process that a link or exit signal takes
		// down first (often the exit of a linked process that the same Stop
		// ended) still runs Terminate, as Stop promises.
		p.callTerminate = p.node.isStopping()
	}
}

func (p *Process) addLink(pid PID) {
	p.mu.Lock()
	if p.links == nil {
		p.links = make(map[PID]struct{})
	}
	p.links[pid] = struct{}{}
	p.mu.Unlock()
	p.noteRemote(pid)
}

func (p *Process) removeLink(pid PID) bool {
	p.mu.Lock()
	_, ok := p.links[pid]
	delete(p.links, pid)
	p.mu.Unlock()
	return ok
}

func (p *Process) noteRemote(pid PID) {
	if pid.Node != p.node.name {
		p.remote.Store(true)
	}
}

// finish ends the process: it runs Terminate when due, closes the mailbox,
// frees the name and timers, and fires links and monitors. rest holds the
// unhandled remainder of the current batch.
func (p *Process) finish(rest []any) {
	reason := p.exitReason
	if p.callTerminate {
		if t, ok := p.behavior.(Terminator); ok {
			p.runTerminate(t, reason)
		}
	}
	p.mu.Lock()
	p.closed = true
	leftover := p.queue
	p.queue, p.spare = nil, nil
	timers := p.timers
	p.timers = nil
	p.mu.Unlock()

	for t := range timers {
		t.done.Store(true)
		t.t.Stop()
	}
	n := p.node
	// The name goes before anyone hears of the exit, so that a restart can take
	// it again at once.
	n.unregisterProcess(p)
	n.procs.Delete(p.pid.ID)

	// Signals that arrived but were not handled still change who must be told.
	for _, list := range [2][]any{rest, leftover} {
		for _, m := range list {
			s, ok := m.(*signal)
			if !ok {
				continue
			}
			switch s.kind {
			case sigLink:
				p.addLink(s.from)
			case sigUnlink:
				p.removeLink(s.from)
			case sigLinkExit:
				p.removeLink(s.from)
			case sigMonitor, sigCall:
				if p.monIn == nil {
					p.monIn = make(map[Ref]watcher)
				}
				p.monIn[s.ref] = watcher{pid: s.from, alias: s.alias || s.kind == sigCall}
			case sigDemonitor:
				delete(p.monIn, s.ref)
			}
		}
	}

	p.mu.Lock()
	links, monIn, monOut := p.links, p.monIn, p.monOut
	p.mu.Unlock()
	for pid := range links {
		_ = n.signal(pid, &signal{kind: sigLinkExit, from: p.pid, reason: reason})
	}
	for ref, w := range monIn {
		if w.alias {
			n.deliverCallResult(ref, callResult{err: reason, down: true, callee: p.pid})
			continue
		}
		_ = n.signal(w.pid, &signal{kind: sigDown, from: p.pid, ref: ref, reason: reason})
	}
	for ref, target := range monOut {
		_ = n.signal(target, &signal{kind: sigDemonitor, from: p.pid, ref: ref})
	}
	if !IsNormalExit(reason) && !errors.Is(reason, Killed) && n.log.Enabled(context.Background(), slog.LevelDebug) {
		n.log.Debug("process exited", "pid", p.pid, "reason", reason.Error())
	}
	n.processGone()
}

func (p *Process) runTerminate(t Terminator, reason error) {
	defer func() {
		if r := recover(); r != nil {
			p.node.log.Error("terminate panicked", "pid", p.pid, "panic", r)
		}
	}()
	t.Terminate(p, reason)
}

// nodeDown fires noconnection for every link and monitor to the lost node.
func (p *Process) nodeDown(node string) {
	p.mu.Lock()
	var lost []PID
	for pid := range p.links {
		if pid.Node == node {
			lost = append(lost, pid)
		}
	}
	var downs []DownMessage
	for ref, pid := range p.monOut {
		if pid.Node == node {
			downs = append(downs, DownMessage{Ref: ref, PID: pid, Reason: ErrNoConnection})
			delete(p.monOut, ref)
		}
	}
	for ref, w := range p.monIn {
		if w.pid.Node == node {
			delete(p.monIn, ref)
		}
	}
	nodeMon := p.nodeMons[node] > 0
	delete(p.nodeMons, node)
	p.mu.Unlock()
	for _, pid := range lost {
		p.removeLink(pid)
		p.exitSignal(pid, ErrNoConnection, true)
		if p.exitReason != nil {
			return
		}
	}
	for _, d := range downs {
		p.deliver(d)
		if p.exitReason != nil {
			return
		}
	}
	if nodeMon {
		p.deliver(NodeDownMessage{Node: node})
	}
}
