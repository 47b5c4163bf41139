package actor

import (
	"context"
	"errors"
)

// Send delivers msg to the destination, with this process as the sender; see
// Node.Send for the mailbox policy. A killed process's sends fail with ErrDead.
func (p *Process) Send(to Dest, msg any) error { return p.node.send(p, p.pid, to, msg) }

// Cast sends a gen_server cast.
func (p *Process) Cast(to Dest, msg any) error { return p.Send(to, CastMessage{Message: msg}) }

// Call calls another process from this one; see Node.Call. While it waits, this
// process handles nothing else. Calling itself returns ErrCallSelf.
func (p *Process) Call(ctx context.Context, to Dest, req any) (any, error) {
	switch d := to.(type) {
	case PID:
		if d == p.pid {
			return nil, ErrCallSelf
		}
	case Name:
		if d.Name != "" && p.node.isLocal(d.Node) && p.Name() == d.Name {
			return nil, ErrCallSelf
		}
	}
	return p.node.call(ctx, p, p.pid, to, req)
}

// Reply answers a call received as a CallRequest or kept from HandleCall. A
// zero or malformed From is ErrMalformed; a killed process's replies are
// dropped (ErrDead) and its callers get its exit reason instead.
func (p *Process) Reply(from From, value any) error { return p.node.reply(p, from, value) }

// Register gives this process a name; see Node.Register.
func (p *Process) Register(name string) error {
	if name == "" {
		return errEmptyName
	}
	return p.node.register(name, p)
}

// TrapExit sets whether exit signals become ExitMessages instead of ending the
// process. It returns the previous setting.
func (p *Process) TrapExit(on bool) bool { return p.trapExit.Swap(on) }

// TrapsExit reports whether the process traps exits.
func (p *Process) TrapsExit() bool { return p.trapExit.Load() }

// Link links this process with the destination, a PID or a registered name on
// this node or another: when either exits, the other receives an exit signal
// with the reason. Linking to a process that does not exist sends this process
// an exit signal with ErrNoProc (and returns that error). A name on another
// node is resolved there; the link is made with the process that held it, or,
// if none did, an exit signal with ErrNotRegistered comes back.
func (p *Process) Link(to Dest) error {
	n := p.node
	var pid PID
	switch d := to.(type) {
	case PID:
		pid = d
	case Name:
		if d.Name == "" {
			return n.destError("link", d, ErrNotRegistered)
		}
		if !n.isLocal(d.Node) {
			// The other node links its process back to us once it has
			// resolved the name.
			return n.destError("link", d, n.forwardFrom(p, Envelope{Kind: EnvLink, From: p.pid, ToName: d}))
		}
		target := n.whereIs(d.Name)
		if target == nil {
			_ = p.accept(&signal{kind: sigExit, from: n.nodePID(), reason: ErrNotRegistered})
			return n.destError("link", d, ErrNotRegistered)
		}
		pid = target.pid
	default:
		return n.destError("link", PID{}, ErrNoProc)
	}
	if pid == p.pid {
		return nil
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrDead
	}
	p.addLinkLocked(pid)
	p.mu.Unlock()
	if err := n.signal(pid, &signal{kind: sigLink, from: p.pid, sender: p}); err != nil {
		if errors.Is(err, ErrDead) {
			return err
		}
		reason := lostReason(err)
		_ = p.accept(&signal{kind: sigLinkExit, from: pid, reason: reason})
		return n.destError("link", pid, reason)
	}
	return nil
}

// Unlink removes the link with pid, both ways. No exit signal from the link
// acts after Unlink returns, and a trapped one still waiting in the mailbox is
// dropped; an exit signal that already acted (the process is doomed to exit
// once its handler returns) is not undone.
func (p *Process) Unlink(pid PID) {
	p.mu.Lock()
	_, ok := p.links[pid]
	delete(p.links, pid)
	p.mu.Unlock()
	if ok {
		_ = p.node.signal(pid, &signal{kind: sigUnlink, from: p.pid, sender: p})
	}
}

// Monitor starts watching the destination, a PID or a registered name on this
// node or another (a name is resolved when the monitor is set); when the
// process exits this process receives a DownMessage with the returned ref. A
// process that does not exist yields a DownMessage with ErrNoProc at once (a
// name nobody holds: ErrNotRegistered).
func (p *Process) Monitor(to Dest) Ref {
	n := p.node
	ref := n.MakeRef()
	target := qualify(to, n.name)
	if d, ok := target.(Name); ok && n.isLocal(d.Node) {
		// A local name is resolved now: the monitor is on its holder.
		if holder := n.whereIs(d.Name); holder != nil {
			to = holder.pid
		}
	}
	if target == nil {
		target = PID{}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ref
	}
	if p.monOut == nil {
		p.monOut = make(map[Ref]Dest)
	}
	p.monOut[ref] = target
	p.tieLocked(destNode(target))
	p.mu.Unlock()
	if err := n.signalDest(to, &signal{kind: sigMonitor, from: p.pid, ref: ref, sender: p}); err != nil && !errors.Is(err, ErrDead) {
		pid, _ := to.(PID)
		reason := lostReason(err)
		if errors.Is(err, ErrNotRegistered) {
			reason = ErrNotRegistered
		}
		_ = p.accept(&signal{kind: sigDown, from: pid, ref: ref, reason: reason})
	}
	return ref
}

// Demonitor stops the monitor ref. No DownMessage for it is delivered after
// Demonitor returns. It reports whether the monitor was active.
func (p *Process) Demonitor(ref Ref) bool {
	p.mu.Lock()
	target, ok := p.monOut[ref]
	delete(p.monOut, ref)
	p.mu.Unlock()
	if ok {
		_ = p.node.signalDest(target, &signal{kind: sigDemonitor, from: p.pid, ref: ref, sender: p})
	}
	return ok
}

// MonitorNode asks for a NodeDownMessage when the connection to node is lost.
// Each call asks for one more message, as erlang:monitor_node/2 does;
// DemonitorNode takes one back.
func (p *Process) MonitorNode(node string) {
	p.mu.Lock()
	ext := p.extLocked()
	if ext.nodeMons == nil {
		ext.nodeMons = make(map[string]int)
	}
	ext.nodeMons[node]++
	p.tieLocked(node)
	p.mu.Unlock()
}

// DemonitorNode takes back one MonitorNode for node.
func (p *Process) DemonitorNode(node string) {
	p.mu.Lock()
	if ext := p.ext; ext != nil {
		if ext.nodeMons[node] > 1 {
			ext.nodeMons[node]--
		} else {
			delete(ext.nodeMons, node)
		}
	}
	p.mu.Unlock()
}

// Exit sends the destination an exit signal with reason, as Erlang's exit/2.
// The signal acts when it arrives, not when the target's mailbox reaches it:
// Kill (or a reason wrapping it) ends the target at once, untrappably, with
// reason Killed; otherwise a process trapping exits receives an ExitMessage in
// order with this process's earlier messages, Normal is ignored (unless the
// target is this process), and any other reason ends the target as soon as
// the handler it is running returns, without handling its backlog.
func (p *Process) Exit(to Dest, reason error) error {
	return p.node.destError("exit", to, p.node.signalDest(to, &signal{kind: sigExit, from: p.pid, reason: reason, sender: p}))
}

func lostReason(err error) error {
	if errors.Is(err, ErrNoConnection) {
		return ErrNoConnection
	}
	return ErrNoProc
}
