package actor

// procExt is what only some processes need, kept out of the Process struct
// (which stays in the 256-byte class) and made on first use: the monitors of
// the calls in hand, and the other nodes the process has links or monitors
// to (see ties.go).
type procExt struct {
	// callers are the monitors of the calls the process has received and
	// not answered yet. A server usually has one call in hand at a time, so
	// the first few live in a slice, found by a scan cheaper than hashing a
	// Ref; more (a server that defers many replies) spill into monIn.
	callers []callerWatch
	// nodes are the other nodes it is tied to.
	nodes []string
	// nodeMons are the node monitors the process holds: node -> count.
	nodeMons map[string]int
	// timers are the process's timers still to fire.
	timers map[*timer]struct{}
}

func (p *Process) extLocked() *procExt {
	if p.ext == nil {
		p.ext = &procExt{}
	}
	return p.ext
}

type callerWatch struct {
	ref Ref
	pid PID
}

const callersInline = 16

// addCallerLocked records the monitor of a call from pid under ref. p.mu is
// held.
func (p *Process) addCallerLocked(ref Ref, pid PID) {
	if ext := p.extLocked(); len(ext.callers) < callersInline {
		ext.callers = append(ext.callers, callerWatch{ref: ref, pid: pid})
	} else {
		p.addWatcherLocked(ref, watcher{pid: pid, alias: true})
	}
	p.tieLocked(pid.Node)
}

// takeCallerLocked removes the call monitor ref and reports whether it was
// there. p.mu is held.
func (p *Process) takeCallerLocked(ref Ref) bool {
	if c := p.ext; c != nil {
		for i := range c.callers {
			if c.callers[i].ref == ref {
				last := len(c.callers) - 1
				c.callers[i] = c.callers[last]
				c.callers[last] = callerWatch{}
				c.callers = c.callers[:last]
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
	if p.ext != nil {
		n = len(p.ext.callers)
	}
	for _, w := range p.monIn {
		if w.alias {
			n++
		}
	}
	return n
}
