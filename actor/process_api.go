package actor

import (
	"context"
	"errors"
)

// Send delivers msg to the process to, with this process as the sender; see
// Node.Send for the mailbox policy.
func (p *Process) Send(to PID, msg any) error { return p.node.send(p.pid, to, msg) }

// SendName delivers msg to a registered name.
func (p *Process) SendName(to Name, msg any) error { return p.node.sendName(p.pid, to, msg) }

// Cast sends a gen_server cast.
func (p *Process) Cast(to PID, msg any) error {
	return p.node.send(p.pid, to, CastMessage{Message: msg})
}

// CastName casts to a registered name.
func (p *Process) CastName(to Name, msg any) error {
	return p.node.sendName(p.pid, to, CastMessage{Message: msg})
}

// Call calls another process from this one; see Node.Call. While it waits, this
// process handles nothing else. Calling itself returns ErrCallSelf.
func (p *Process) Call(ctx context.Context, to PID, req any) (any, error) {
	if to == p.pid {
		return nil, ErrCallSelf
	}
	return p.node.call(ctx, p.pid, to, Name{}, req)
}

// CallName calls a registered name from this process.
func (p *Process) CallName(ctx context.Context, to Name, req any) (any, error) {
	if to.Name != "" && p.node.isLocal(to.Node) && p.Name() == to.Name {
		return nil, ErrCallSelf
	}
	return p.node.call(ctx, p.pid, PID{}, to, req)
}

// Reply answers a call received as a CallRequest or kept from HandleCall.
func (p *Process) Reply(from From, value any) { p.node.reply(p, from, value) }

// Register gives this process a name; see Node.Register.
func (p *Process) Register(name string) error { return p.node.register(name, p) }

// TrapExit sets whether exit signals become ExitMessages instead of ending the
// process. It returns the previous setting.
func (p *Process) TrapExit(on bool) bool { return p.trapExit.Swap(on) }

// TrapsExit reports whether the process traps exits.
func (p *Process) TrapsExit() bool { return p.trapExit.Load() }

// Link links this process with pid: when either exits, the other receives an
// exit signal with the reason. Linking to a process that does not exist sends
// this process an exit signal with ErrNoProc (and returns ErrNoProc).
func (p *Process) Link(pid PID) error {
	if pid == p.pid {
		return nil
	}
	p.addLink(pid)
	if err := p.node.signal(pid, &signal{kind: sigLink, from: p.pid}); err != nil {
		reason := lostReason(err)
		_ = p.enqueue(&signal{kind: sigLinkExit, from: pid, reason: reason}, true)
		return reason
	}
	return nil
}

// Unlink removes the link with pid, both ways. No exit signal from pid arrives
// after Unlink returns, even one already on its way.
func (p *Process) Unlink(pid PID) {
	if !p.removeLink(pid) {
		return
	}
	_ = p.node.signal(pid, &signal{kind: sigUnlink, from: p.pid})
}

// Monitor starts watching pid; when it exits this process receives a
// DownMessage with the returned ref. A pid that does not exist yields a
// DownMessage with ErrNoProc at once.
func (p *Process) Monitor(pid PID) Ref {
	ref := p.node.MakeRef()
	p.mu.Lock()
	if p.monOut == nil {
		p.monOut = make(map[Ref]PID)
	}
	p.monOut[ref] = pid
	p.mu.Unlock()
	p.noteRemote(pid)
	if err := p.node.signal(pid, &signal{kind: sigMonitor, from: p.pid, ref: ref}); err != nil {
		_ = p.enqueue(&signal{kind: sigDown, from: pid, ref: ref, reason: lostReason(err)}, true)
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
		_ = p.node.signal(target, &signal{kind: sigDemonitor, from: p.pid, ref: ref})
	}
	return ok
}

// MonitorNode asks for a NodeDownMessage when the connection to node is lost.
// Each call asks for one more; DemonitorNode takes one back.
func (p *Process) MonitorNode(node string) {
	p.mu.Lock()
	if p.nodeMons == nil {
		p.nodeMons = make(map[string]int)
	}
	p.nodeMons[node]++
	p.mu.Unlock()
	p.remote.Store(true)
}

// DemonitorNode takes back one MonitorNode for node.
func (p *Process) DemonitorNode(node string) {
	p.mu.Lock()
	if p.nodeMons[node] > 1 {
		p.nodeMons[node]--
	} else {
		delete(p.nodeMons, node)
	}
	p.mu.Unlock()
}

// Exit sends pid an exit signal with reason, as Erlang's exit/2: Kill ends it
// unconditionally (its reason becomes Killed); otherwise a process trapping
// exits receives an ExitMessage, Normal is ignored (unless pid is this
// process), and any other reason ends it.
func (p *Process) Exit(pid PID, reason error) error {
	return p.node.signal(pid, &signal{kind: sigExit, from: p.pid, reason: reason})
}

func lostReason(err error) error {
	if errors.Is(err, ErrNoConnection) {
		return ErrNoConnection
	}
	return ErrNoProc
}
