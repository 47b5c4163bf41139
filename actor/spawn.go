package actor

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// SpawnOption configures a new process.
type SpawnOption func(*spawnConfig)

type spawnConfig struct {
	name     string
	link     bool
	trapExit bool
	bound    int32
}

// WithName registers the process under name before its Init runs; Spawn fails
// with ErrNameTaken if the name is in use.
func WithName(name string) SpawnOption { return func(c *spawnConfig) { c.name = name } }

// WithLink links the new process to the spawning process once Init succeeds.
// Only a process can be linked to: from Node.Spawn it is ErrNoParent.
func WithLink() SpawnOption { return func(c *spawnConfig) { c.link = true } }

// WithTrapExit starts the process trapping exits.
func WithTrapExit() SpawnOption { return func(c *spawnConfig) { c.trapExit = true } }

// WithMailboxBound limits the mailbox to bound messages waiting or being
// handled; a Send or Cast to a full mailbox returns ErrMailboxFull. Signals
// (exits, DOWNs, calls' monitors) are never refused. Zero means unbounded.
func WithMailboxBound(bound int) SpawnOption {
	return func(c *spawnConfig) { c.bound = int32(min(max(bound, 0), 1<<30)) }
}

// Spawn starts a process running b, from outside any process. If b implements
// Initializer, Init runs before Spawn returns and its error is Spawn's error;
// a process killed (or sent a lethal exit signal) while its Init runs is not
// started either, and Spawn returns that exit reason, like proc_lib.
func (n *Node) Spawn(b Behavior, opts ...SpawnOption) (PID, error) {
	pid, _, err := n.spawn(nil, b, false, opts)
	return pid, err
}

// Spawn starts a process running b; see Node.Spawn. With WithLink it is linked
// to p, and p becomes its Parent.
func (p *Process) Spawn(b Behavior, opts ...SpawnOption) (PID, error) {
	pid, _, err := p.node.spawn(p, b, false, opts)
	return pid, err
}

// SpawnMonitor starts a process and monitors it from p in one step, like
// Erlang's spawn_monitor.
func (p *Process) SpawnMonitor(b Behavior, opts ...SpawnOption) (PID, Ref, error) {
	return p.node.spawn(p, b, true, opts)
}

func (n *Node) spawn(parent *Process, b Behavior, monitor bool, opts []SpawnOption) (PID, Ref, error) {
	var cfg spawnConfig
	for _, o := range opts {
		o(&cfg)
	}
	if b == nil {
		return PID{}, Ref{}, fmt.Errorf("actor: spawn: nil behavior")
	}
	if cfg.link && parent == nil {
		return PID{}, Ref{}, ErrNoParent
	}
	if parent != nil && parent.dead() {
		return PID{}, Ref{}, ErrDead
	}
	p := &Process{
		node:     n,
		pid:      PID{Node: n.name, Creation: n.creation, ID: n.nextID.Add(1)},
		behavior: b,
		bound:    cfg.bound,
		started:  time.Now().UnixNano(),
		// Held "running" through Init so that messages sent meanwhile wait.
		running: true,
	}
	if cfg.link {
		p.parent = parent.pid
	}
	p.trapExit.Store(cfg.trapExit)

	n.spawnMu.RLock()
	if n.stopping.Load() {
		n.spawnMu.RUnlock()
		return PID{}, Ref{}, ErrNodeStopped
	}
	n.live.Add(1)
	n.procs.Store(p.pid.ID, p)
	n.spawnMu.RUnlock()

	if cfg.name != "" {
		if err := n.register(cfg.name, p); err != nil {
			p.reap(err)
			return PID{}, Ref{}, err
		}
	}
	if init, ok := b.(Initializer); ok {
		if err := runInit(init, p); err != nil {
			reason := err
			if errors.Is(err, Ignore) {
				reason = Normal
			}
			if p.doomed.Load() {
				p.exit() // the signal that arrived during Init decides
			} else {
				p.reap(reason)
			}
			return PID{}, Ref{}, err
		}
	}
	if p.doomed.Load() {
		// Killed, or sent a lethal exit, while Init ran.
		p.exit()
		p.mu.Lock()
		reason := p.doomReason
		p.mu.Unlock()
		return PID{}, Ref{}, reason
	}
	var ref Ref
	if parent != nil && (cfg.link || monitor) {
		if monitor {
			ref = n.MakeRef()
		}
		// Made under the parent's lock, so that a parent killed meanwhile
		// either has them in the tables its reaping fires, or starts no
		// child at all: nothing it does after its death is seen.
		parent.mu.Lock()
		if parent.closed {
			parent.mu.Unlock()
			p.kill(Killed)
			return PID{}, Ref{}, ErrDead
		}
		if cfg.link {
			parent.addLinkLocked(p.pid)
		}
		if monitor {
			if parent.monOut == nil {
				parent.monOut = make(map[Ref]Dest)
			}
			parent.monOut[ref] = p.pid
		}
		parent.mu.Unlock()
		if cfg.link {
			if err := p.accept(&signal{kind: sigLink, from: parent.pid, sender: parent}); err != nil {
				if errors.Is(err, ErrDead) {
					p.kill(Killed)
					return PID{}, Ref{}, ErrDead
				}
				_ = parent.accept(&signal{kind: sigLinkExit, from: p.pid, reason: p.finalReason()})
			}
		}
		if monitor {
			if err := p.accept(&signal{kind: sigMonitor, from: parent.pid, ref: ref, sender: parent}); err != nil {
				if errors.Is(err, ErrDead) {
					p.kill(Killed)
					return PID{}, Ref{}, ErrDead
				}
				_ = parent.accept(&signal{kind: sigDown, from: p.pid, ref: ref, reason: p.finalReason()})
			}
		}
	}
	// Start handling whatever arrived during Init.
	p.mu.Lock()
	start := !p.closed && (len(p.queue) > 0 || p.doomed.Load())
	if !p.closed {
		p.running = start
	}
	p.mu.Unlock()
	if start {
		go p.run()
	}
	return p.pid, ref, nil
}

// finalReason is the reason of a reaped process (noproc before that).
func (p *Process) finalReason() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reaped || p.doomReason == nil {
		return ErrNoProc
	}
	return p.doomReason
}

func runInit(init Initializer, p *Process) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return init.Init(p)
}
