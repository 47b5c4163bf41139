package supervisor

import (
	"errors"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// terminateChildren stops the running children of list one at a time, in
// reverse order, each as its Shutdown says, and returns the list as it stands
// afterwards: temporary children removed, the others kept with no PID (OTP's
// terminate_children).
func (s *server) terminateChildren(p *actor.Process, list []*child) []*child {
	for i := len(list) - 1; i >= 0; i-- {
		if c := list[i]; !c.pid.IsZero() {
			s.stopProcesses(p, []actor.PID{c.pid}, c.spec)
		}
	}
	kept := make([]*child, 0, len(list))
	for _, c := range list {
		if c.spec.Restart == Temporary {
			continue
		}
		c.pid, c.restarting = actor.PID{}, false
		kept = append(kept, c)
	}
	return kept
}

// terminateDynamic stops all dynamic children at once, under one shutdown
// timer (OTP's terminate_dynamic_children): a SimpleOneForOne supervisor may
// have very many, and their order is of no consequence.
func (s *server) terminateDynamic(p *actor.Process) {
	kids := s.dynamicInOrder()
	pids := make([]actor.PID, 0, len(kids))
	for i := len(kids) - 1; i >= 0; i-- {
		if !kids[i].restarting {
			pids = append(pids, kids[i].pid)
		}
	}
	s.stopProcesses(p, pids, s.spec.Children[0])
	clear(s.dynamic)
}

// stopProcesses stops children that share spec's Shutdown, the way OTP's
// shutdown/1 does for one: it monitors them, sends each an exit signal
// (actor.Kill for BrutalKill, actor.Shutdown otherwise), waits for their DOWNs,
// kills the ones still alive when the Shutdown time is up, and unlinks each
// once it is gone, so that its exit signal is not taken for a crash.
//
// A process cannot wait for one message while others queue in its mailbox,
// so the monitor is held by a short-lived watcher process that passes the
// DOWNs to this goroutine over a channel.
func (s *server) stopProcesses(p *actor.Process, pids []actor.PID, spec ChildSpec) {
	if len(pids) == 0 {
		return
	}
	signal := actor.Shutdown
	if spec.Shutdown == BrutalKill {
		signal = actor.Kill
	}
	downs, err := watch(p, pids)
	if err != nil {
		// The node is stopping and every process gets its own stop signal;
		// there is nothing to wait with.
		for _, pid := range pids {
			p.Unlink(pid)
			_ = p.Exit(pid, signal)
		}
		return
	}
	for _, pid := range pids {
		_ = p.Exit(pid, signal)
	}
	var deadline <-chan time.Time
	if spec.Shutdown != BrutalKill && spec.Shutdown != Infinity {
		t := time.NewTimer(spec.Shutdown)
		defer t.Stop()
		deadline = t.C
	}
	pending := make(map[actor.PID]bool, len(pids))
	for _, pid := range pids {
		pending[pid] = true
	}
	for len(pending) > 0 {
		select {
		case d, ok := <-downs:
			if !ok {
				return // the watcher was stopped with the node
			}
			delete(pending, d.PID)
			p.Unlink(d.PID)
			s.checkShutdown(spec, d)
		case <-deadline:
			deadline = nil
			for _, pid := range pids {
				if pending[pid] {
					s.log.Info("supervisor: child did not shut down in time; killing it",
						"child_id", spec.ID, "child_pid", pid, "shutdown", spec.Shutdown.String())
					_ = p.Exit(pid, actor.Kill)
				}
			}
		}
	}
}

// checkShutdown logs a child that ended with another reason than the one it
// was asked to end with (OTP's shutdown_error report).
func (s *server) checkShutdown(spec ChildSpec, d actor.DownMessage) {
	r := d.Reason
	switch {
	case errors.Is(r, actor.ErrNoProc):
		// Gone before the monitor was set: it exited on its own and its
		// exit signal, now unlinked, is dropped.
		s.log.Debug("supervisor: child was gone before shutdown", "child_id", spec.ID, "child_pid", d.PID)
		return
	case spec.Shutdown == BrutalKill && errors.Is(r, actor.Killed):
		return
	case errors.Is(r, actor.Shutdown):
		return
	case spec.Restart != Permanent && actor.IsNormalExit(r):
		return
	}
	msg := "<nil>"
	if r != nil {
		msg = r.Error()
	}
	s.log.Error("supervisor: shutdown error", "child_id", spec.ID, "child_pid", d.PID, "reason", msg)
}

// watcher monitors processes for a supervisor that is stopping them and
// passes each DOWN on; it ends when all are down.
type watcher struct {
	targets []actor.PID
	downs   chan actor.DownMessage
	left    int
}

var (
	_ actor.Initializer = (*watcher)(nil)
	_ actor.Terminator  = (*watcher)(nil)
)

// watch spawns a watcher for pids. The channel gets one DownMessage per pid,
// or is closed if the watcher is stopped first (the node is stopping).
func watch(p *actor.Process, pids []actor.PID) (<-chan actor.DownMessage, error) {
	w := &watcher{targets: pids, downs: make(chan actor.DownMessage, len(pids))}
	if _, err := p.Spawn(w); err != nil {
		return nil, err
	}
	return w.downs, nil
}

// Init monitors the targets before Spawn returns, so before the supervisor
// sends them anything.
func (w *watcher) Init(p *actor.Process) error {
	for _, pid := range w.targets {
		p.Monitor(pid)
	}
	w.left, w.targets = len(w.targets), nil
	return nil
}

func (w *watcher) Receive(p *actor.Process, msg any) error {
	d, ok := msg.(actor.DownMessage)
	if !ok {
		return nil
	}
	w.downs <- d // never blocks: the channel has room for every target
	w.left--
	if w.left == 0 {
		return actor.Normal
	}
	return nil
}

// Terminate runs when the watcher ends itself (all targets down) or is stopped
// with its node; in the latter case the supervisor must stop waiting.
func (w *watcher) Terminate(p *actor.Process, reason error) {
	if w.left > 0 {
		close(w.downs)
	}
}
