package actor

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is what a process is doing.
type Status string

// Process statuses.
const (
	StatusWaiting Status = "waiting" // idle, mailbox empty
	StatusRunning Status = "running" // handling its mailbox
)

// ProcessInfo describes a process at one moment.
type ProcessInfo struct {
	PID            PID
	Name           string
	Status         Status
	MailboxLen     int
	TrapExit       bool
	Parent         PID
	Links          []PID
	Monitors       []PID  // processes this one monitors by PID
	MonitorsByName []Name // names this one monitors
	MonitoredBy    []PID  // processes monitoring this one
	// Behavior names what the process runs: the GenServer's type for a
	// server (or what its BehaviorName method says), the Behavior's
	// type otherwise.
	Behavior string
	// Started is when the process was spawned.
	Started time.Time
	// Inspectable tells whether the behaviour implements Inspector, so
	// that Node.Inspect gets its state.
	Inspectable bool
	// MessagesHandled counts the mailbox entries (messages, calls,
	// signals that became messages) it has handled, or is handling in the
	// batch it took from its mailbox.
	MessagesHandled uint64
}

// BehaviorNamer is implemented by a Behavior or GenServer that names itself
// for Info (a supervisor says "supervisor").
type BehaviorNamer interface {
	BehaviorName() string
}

func behaviorName(b Behavior) string {
	if s, ok := b.(*server); ok {
		if n, ok := s.gs.(BehaviorNamer); ok {
			return n.BehaviorName()
		}
		return fmt.Sprintf("%T", s.gs)
	}
	if n, ok := b.(BehaviorNamer); ok {
		return n.BehaviorName()
	}
	return fmt.Sprintf("%T", b)
}

// Info describes a live local process, or returns ErrNoProc.
func (n *Node) Info(pid PID) (ProcessInfo, error) {
	p := n.lookup(pid)
	if p == nil {
		return ProcessInfo{}, ErrNoProc
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ProcessInfo{}, ErrNoProc
	}
	info := ProcessInfo{
		PID:        p.pid,
		Name:       p.name,
		Status:     StatusWaiting,
		MailboxLen: int(p.pending.Load()),
		TrapExit:   p.trapExit.Load(),
		Parent:     p.parent,

		Behavior:        behaviorName(p.behavior),
		Inspectable:     inspectorOf(p.behavior) != nil,
		Started:         time.Unix(0, p.started),
		MessagesHandled: p.handled.Load(),
	}
	if p.running {
		info.Status = StatusRunning
	}
	for pid := range p.links {
		info.Links = append(info.Links, pid)
	}
	for _, d := range p.monOut {
		switch d := d.(type) {
		case PID:
			info.Monitors = append(info.Monitors, d)
		case Name:
			info.MonitorsByName = append(info.MonitorsByName, d)
		}
	}
	for _, w := range p.monIn {
		if !w.alias {
			info.MonitoredBy = append(info.MonitoredBy, w.pid)
		}
	}
	for _, l := range [][]PID{info.Links, info.Monitors, info.MonitoredBy} {
		slices.SortFunc(l, comparePID)
	}
	slices.SortFunc(info.MonitorsByName, func(a, b Name) int { return strings.Compare(a.String(), b.String()) })
	return info, nil
}
