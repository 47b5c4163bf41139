package actor

import (
	"context"
	"errors"
	"log/slog"
	"slices"
)

// accept applies a signal as it reaches the process, as erts does: link and
// monitor bookkeeping at once, an exit signal that kills at once (Kill) or as
// soon as the handler in progress returns (any other lethal exit), without
// handling the backlog. What becomes a message (a DOWN, a trapped exit, a
// call request, a node-down) joins the mailbox queue in arrival order. It
// fails with ErrNoProc once the process is dead, and with ErrMailboxFull for a
// call to a full bounded mailbox.
func (p *Process) accept(s *signal) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrNoProc
	}
	if s.sender != nil && s.sender.dead() {
		p.mu.Unlock()
		return ErrDead
	}
	if s.session.stale() {
		p.mu.Unlock()
		return ErrNoConnection
	}
	kill := false
	switch s.kind {
	case sigLink:
		p.addLinkLocked(s.from)
	case sigUnlink:
		delete(p.links, s.from)
	case sigMonitor:
		p.addWatcherLocked(s.ref, watcher{pid: s.from})
	case sigDemonitor:
		if _, ok := p.monIn[s.ref]; ok {
			delete(p.monIn, s.ref)
		} else {
			p.takeCallerLocked(s.ref)
		}
	case sigCall, sigStopProc, sigInspect:
		if s.kind == sigCall && p.bound > 0 {
			if p.users.Load() >= p.bound {
				p.mu.Unlock()
				return ErrMailboxFull
			}
			p.users.Add(1)
		}
		p.addCallerLocked(s.ref, s.from)
		p.push(s)
	case sigDown, sigNodeDownMsg:
		p.push(s)
	case sigLinkExit:
		if _, linked := p.links[s.from]; !linked {
			break
		}
		if p.trapExit.Load() {
			p.push(s) // the link goes when the ExitMessage is handled
			break
		}
		delete(p.links, s.from)
		if !errors.Is(s.reason, Normal) {
			p.doomLocked(s.reason, p.node.stopping.Load())
		}
	case sigExit:
		switch {
		case errors.Is(s.reason, Kill):
			kill = true
		case p.trapExit.Load():
			p.push(s)
		case errors.Is(s.reason, Normal):
			if s.from == p.pid {
				p.doomLocked(Normal, false)
			}
		default:
			p.doomLocked(s.reason, p.node.stopping.Load())
		}
	case sigStop:
		p.doomLocked(Shutdown, true)
	case sigNodeDown:
		p.nodeDownLocked(s.node)
	}
	start := !kill && !p.running && (len(p.queue) > 0 || p.doomed.Load())
	if start {
		p.running = true
	}
	p.mu.Unlock()
	if kill {
		p.kill(Killed)
	} else if start {
		go p.run()
	}
	return nil
}

func (p *Process) addLinkLocked(pid PID) {
	if p.links == nil {
		p.links = make(map[PID]struct{})
	}
	p.links[pid] = struct{}{}
	p.tieLocked(pid.Node)
}

func (p *Process) addWatcherLocked(ref Ref, w watcher) {
	if p.monIn == nil {
		p.monIn = make(map[Ref]watcher)
	}
	p.monIn[ref] = w
	p.tieLocked(w.pid.Node)
}

// doomLocked makes an exit due. The first reason wins; Terminate runs if any
// of the exits asks for it (a node stop does).
func (p *Process) doomLocked(reason error, terminate bool) {
	if p.doomReason == nil {
		p.doomReason = reason
	}
	p.doomTerminate = p.doomTerminate || terminate
	p.doomed.Store(true)
}

// handleQueued handles a signal that waited its turn in the mailbox.
func (p *Process) handleQueued(s *signal) {
	switch s.kind {
	case sigCall:
		from, req := From{PID: s.from, Ref: s.ref}, s.msg
		releaseCallSignal(s)
		if srv, ok := p.behavior.(*server); ok {
			if err := p.invokeCall(srv, from, req); err != nil {
				p.fail(err, true)
			}
			return
		}
		p.deliver(CallRequest{From: from, Request: req})
	case sigStopProc:
		p.fail(s.reason, true)
	case sigInspect:
		_ = p.Reply(From{PID: s.from, Ref: s.ref}, p.inspect())
	case sigDown:
		p.mu.Lock()
		target, ok := p.monOut[s.ref]
		delete(p.monOut, s.ref)
		p.mu.Unlock()
		if ok { // not demonitored while it waited
			d := DownMessage{Ref: s.ref, PID: s.from, Reason: s.reason}
			if name, isName := target.(Name); isName {
				d.Name = name
			}
			p.deliver(d)
		}
	case sigNodeDownMsg:
		p.deliver(NodeDownMessage{Node: s.node})
	case sigLinkExit:
		p.mu.Lock()
		_, linked := p.links[s.from]
		delete(p.links, s.from)
		p.mu.Unlock()
		if linked { // not unlinked while it waited
			p.queuedExit(s.from, s.reason, true)
		}
	case sigExit:
		p.queuedExit(s.from, s.reason, false)
	}
}

// queuedExit applies an exit signal that was trapped when it arrived: still
// trapping, it is an ExitMessage; otherwise Erlang's rules apply now.
func (p *Process) queuedExit(from PID, reason error, linked bool) {
	switch {
	case p.trapExit.Load():
		p.deliver(ExitMessage{From: from, Reason: reason})
	case errors.Is(reason, Normal):
		if !linked && from == p.pid {
			p.fail(Normal, false)
		}
	default:
		p.fail(reason, p.node.stopping.Load())
	}
}

// nodeDownLocked fires noconnection for every link and monitor to the lost
// node: links as exit signals, monitors and node monitors as messages in the
// queue, in a fixed order.
func (p *Process) nodeDownLocked(node string) {
	var lost []PID
	for pid := range p.links {
		if pid.Node == node {
			lost = append(lost, pid)
		}
	}
	slices.SortFunc(lost, comparePID)
	trap := p.trapExit.Load()
	for _, pid := range lost {
		if trap {
			p.push(&signal{kind: sigLinkExit, from: pid, reason: ErrNoConnection})
		} else {
			delete(p.links, pid)
			p.doomLocked(ErrNoConnection, p.node.stopping.Load())
		}
	}
	var downs []Ref
	for ref, d := range p.monOut {
		if destNode(d) == node {
			downs = append(downs, ref)
		}
	}
	slices.SortFunc(downs, func(a, b Ref) int { return compareUint(a.ID, b.ID) })
	for _, ref := range downs {
		pid, _ := p.monOut[ref].(PID)
		p.push(&signal{kind: sigDown, from: pid, ref: ref, reason: ErrNoConnection})
	}
	for ref, w := range p.monIn {
		if w.pid.Node == node && !w.alias {
			delete(p.monIn, ref)
		}
	}
	if ext := p.ext; ext != nil {
		for range ext.nodeMons[node] {
			p.push(&signal{kind: sigNodeDownMsg, node: node})
		}
		delete(ext.nodeMons, node)
	}
}

// kill declares the process dead at once with reason: it refuses everything
// from here on, its name is free, and its links and monitors fire as soon as
// the operations its code has in flight are done. A handler still running
// goes on as a zombie whose sends are dropped.
func (p *Process) kill(reason error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.doomReason, p.doomTerminate = reason, false
	p.doomed.Store(true)
	p.mu.Unlock()
	n := p.node
	n.unregisterProcess(p)
	if p.gate.Load() == 0 && p.gate.CompareAndSwap(0, gateDead) {
		p.reap(reason)
		return
	}
	// Forwards are in flight (one may wait for room in a full send queue):
	// the reaping waits for the last of them, woken by its leave.
	wake := make(chan struct{}, 1)
	n.reapers.Store(p, wake)
	p.gate.Or(gateDead)
	go func() {
		for p.gate.Load() != gateDead {
			<-wake
		}
		n.reapers.Delete(p)
		p.reap(reason)
	}()
}

// reap ends the process once: it closes the mailbox, frees the name and
// timers, and fires links and monitors with reason.
func (p *Process) reap(reason error) {
	p.mu.Lock()
	if p.reaped {
		p.mu.Unlock()
		return
	}
	p.reaped, p.closed, p.doomReason = true, true, reason
	p.queue = nil // spare belongs to the goroutine handling the mailbox
	links, monIn, monOut := p.links, p.monIn, p.monOut
	p.links, p.monIn, p.monOut = nil, nil, nil
	var tiedTo []string
	var timers map[*timer]struct{}
	if p.ext != nil {
		timers = p.ext.timers
		if monIn == nil {
			monIn = make(map[Ref]watcher, len(p.ext.callers))
		}
		for _, c := range p.ext.callers {
			monIn[c.ref] = watcher{pid: c.pid, alias: true}
		}
		tiedTo = p.ext.nodes
		p.ext = nil
	}
	p.mu.Unlock()
	p.gate.Or(gateDead)

	for t := range timers {
		t.done.Store(true)
		t.t.Stop()
	}
	n := p.node
	// The name goes before anyone hears of the exit, so that a restart can take
	// it again at once.
	n.unregisterProcess(p)
	n.procs.Delete(p.pid.ID)
	n.retiredHandled.Add(p.handled.Load())
	n.untie(p, tiedTo)

	pids := make([]PID, 0, len(links))
	for pid := range links {
		pids = append(pids, pid)
	}
	slices.SortFunc(pids, comparePID)
	for _, pid := range pids {
		_ = n.signal(pid, &signal{kind: sigLinkExit, from: p.pid, reason: reason})
	}
	refs := make([]Ref, 0, len(monIn))
	for ref := range monIn {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, func(a, b Ref) int { return compareUint(a.ID, b.ID) })
	for _, ref := range refs {
		w := monIn[ref]
		if w.alias {
			_ = n.deliverCallResult(ref, callResult{err: reason, down: true, callee: p.pid}, nil)
			continue
		}
		_ = n.signal(w.pid, &signal{kind: sigDown, from: p.pid, ref: ref, reason: reason})
	}
	for ref, target := range monOut {
		_ = n.signalDest(target, &signal{kind: sigDemonitor, from: p.pid, ref: ref})
	}
	if !IsNormalExit(reason) && !errors.Is(reason, Killed) && n.log.Enabled(context.Background(), slog.LevelDebug) {
		n.log.Debug("process exited", "pid", p.pid, "reason", reason.Error())
	}
	n.processGone()
}

func comparePID(a, b PID) int {
	if a.Node != b.Node {
		if a.Node < b.Node {
			return -1
		}
		return 1
	}
	if c := compareUint(uint64(a.Creation), uint64(b.Creation)); c != 0 {
		return c
	}
	return compareUint(a.ID, b.ID)
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
