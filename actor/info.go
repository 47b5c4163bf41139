package actor

import (
	"slices"
	"strings"
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
