package actor

// callerSet holds the monitors of the calls a process has received and not
// answered yet. A server usually has one call in hand at a time, so the
// first few live in a slice, found by a scan cheaper than hashing a Ref;
// more (a server that defers many replies) spill into monIn.
type callerSet struct {
	list []callerWatch
}

type callerWatch struct {
	ref Ref
	pid PID
}

const callersInline = 16

// addCallerLocked records the monitor of a call from pid under ref. p.mu is
// held.
func (p *Process) addCallerLocked(ref Ref, pid PID) {
	if p.callers == nil {
		p.callers = &callerSet{}
	}
	if len(p.callers.list) < callersInline {
		p.callers.list = append(p.callers.list, callerWatch{ref: ref, pid: pid})
	} else {
		p.addWatcherLocked(ref, watcher{pid: pid, alias: true})
	}
	if pid.Node != p.node.name {
		p.remote.Store(true)
	}
}

// takeCallerLocked removes the call monitor ref and reports whether it was
// there. p.mu is held.
func (p *Process) takeCallerLocked(ref Ref) bool {
	if c := p.callers; c != nil {
		for i := range c.list {
			if c.list[i].ref == ref {
				last := len(c.list) - 1
				c.list[i] = c.list[last]
				c.list[last] = callerWatch{}
				c.list = c.list[:last]
				return true
			}
		}
	}
	if w, ok := p.monIn[ref]; ok && w.alias {
		delete(p.monIn, ref)
		return true
	}
	return false
}

// callerCountLocked is the number of call monitors held. p.mu is held.
func (p *Process) callerCountLocked() int {
	n := 0
	if p.callers != nil {
		n = len(p.callers.list)
	}
	for _, w := range p.monIn {
		if w.alias {
			n++
		}
	}
	return n
}
