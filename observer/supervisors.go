package observer

import (
	"context"
	"errors"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// maxTreeDepth bounds the walk down nested supervisors, so that a tree that
// names itself (it cannot, but a misreported one) cannot loop.
const maxTreeDepth = 32

// SupervisorTree is one supervisor and, recursively, its children.
type SupervisorTree struct {
	PID  string `json:"pid"`
	Name string `json:"name,omitempty"`
	// Root is the destination the tree was asked for (a name or a PID).
	Root   string `json:"root,omitempty"`
	Counts Counts `json:"counts"`
	// RestartsSeen counts the restarts of its children the observer has
	// noticed (a child's PID changed between two looks); the supervisor
	// does not report its own count.
	RestartsSeen int `json:"restarts_seen"`
	// Strategy, Intensity, Period (seconds) and Restarts are the
	// supervisor's own (supervisor.State, by actor.Node.Inspect): Restarts
	// counts every restart since it started, RecentRestarts those within
	// the last Period.
	Strategy       string      `json:"strategy,omitempty"`
	Intensity      int         `json:"intensity"`
	PeriodSeconds  float64     `json:"period_seconds"`
	Restarts       uint64      `json:"restarts"`
	RecentRestarts int         `json:"recent_restarts"`
	Children       []ChildNode `json:"children"`
	// Error is set when the supervisor could not be asked (it is gone, or
	// it did not answer in time).
	Error string `json:"error,omitempty"`
}

// Counts are a supervisor's child counts (supervisor.CountChildren).
type Counts struct {
	Specs       int `json:"specs"`
	Active      int `json:"active"`
	Supervisors int `json:"supervisors"`
	Workers     int `json:"workers"`
}

// ChildNode is one child of a supervisor.
type ChildNode struct {
	ID         string `json:"id"`
	PID        string `json:"pid,omitempty"`
	Name       string `json:"name,omitempty"`
	Type       string `json:"type"`
	Restart    string `json:"restart"`
	Restarting bool   `json:"restarting"`
	// Status is the process's status, "restarting", or "stopped" for a
	// child with no process.
	Status       string          `json:"status"`
	MailboxLen   int             `json:"mailbox_len"`
	RestartsSeen int             `json:"restarts_seen"`
	Restarts     uint64          `json:"restarts"` // the restarts its exits caused, as its supervisor counts them
	Supervisor   *SupervisorTree `json:"supervisor,omitempty"`
}

type knownSupervisor struct {
	dest actor.Dest
	pid  actor.PID
}

// roots returns the configured roots plus extra, the peer service's
// supervisor included, without duplicates.
func (o *Observer) roots(extra []actor.Dest) []actor.Dest {
	var out []actor.Dest
	seen := map[string]bool{}
	add := func(d actor.Dest) {
		if d == nil {
			return
		}
		key := d.String()
		if name, ok := d.(actor.Name); ok && (name.Node == "" || name.Node == o.node.Name()) {
			if pid, ok := o.node.WhereIs(name.Name); ok {
				key = pid.String() // a root given by name is the process it names
			}
		}
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, d)
	}
	for _, d := range o.opts.Supervisors {
		add(d)
	}
	if o.opts.Peers != nil {
		if pid := o.opts.Peers.Supervisor(); !pid.IsZero() {
			add(pid)
		}
	}
	for _, d := range extra {
		add(d)
	}
	// Every supervisor whose parent is not one: the roots of the trees
	// nobody configured.
	for _, pid := range o.node.Processes() {
		info, err := o.node.Info(pid)
		if err != nil || info.Behavior != "supervisor" {
			continue
		}
		if parent, err := o.node.Info(info.Parent); err == nil && parent.Behavior == "supervisor" {
			continue
		}
		add(pid)
	}
	return out
}

// Supervisors reads the supervision trees under the configured roots and
// extra ones, in that order.
func (o *Observer) Supervisors(ctx context.Context, extra ...actor.Dest) []SupervisorTree {
	roots := o.roots(extra)
	out := make([]SupervisorTree, 0, len(roots))
	for _, d := range roots {
		t := o.tree(ctx, d, 0)
		t.Root = d.String()
		out = append(out, t)
	}
	return out
}

// knownSupervisors lists every supervisor under the roots, found by walking
// the trees.
func (o *Observer) knownSupervisors(ctx context.Context) []knownSupervisor {
	var out []knownSupervisor
	var walk func(t SupervisorTree)
	walk = func(t SupervisorTree) {
		if pid, err := o.ParsePID(t.PID); err == nil {
			out = append(out, knownSupervisor{pid: pid})
		}
		for _, c := range t.Children {
			if c.Supervisor != nil {
				walk(*c.Supervisor)
			}
		}
	}
	for _, t := range o.Supervisors(ctx) {
		walk(t)
	}
	return out
}

func (o *Observer) tree(ctx context.Context, sup actor.Dest, depth int) SupervisorTree {
	t := SupervisorTree{Children: []ChildNode{}}
	cctx, cancel := o.callContext(ctx)
	defer cancel()
	pid, err := o.node.Resolve(cctx, sup)
	if err != nil {
		t.PID = sup.String()
		t.Error = callError("resolve", err).Error()
		return t
	}
	t.PID = pid.String()
	if info, err := o.node.Info(pid); err == nil {
		t.Name = info.Name
	}
	children, err := supervisor.WhichChildren(cctx, o.node, pid)
	var counts supervisor.Counts
	if err == nil {
		counts, err = supervisor.CountChildren(cctx, o.node, pid)
		t.Counts = Counts{Specs: counts.Specs, Active: counts.Active, Supervisors: counts.Supervisors, Workers: counts.Workers}
	}
	if err != nil {
		t.Error = callError("which_children", err).Error()
		return t
	}
	childRestarts := map[string]uint64{}
	if v, err := o.node.Inspect(cctx, pid); err == nil {
		if st, ok := v.(supervisor.State); ok {
			t.Strategy, t.Intensity, t.PeriodSeconds = st.Strategy.String(), st.Intensity, st.Period.Seconds()
			t.Restarts, t.RecentRestarts = st.Restarts, st.Recent
			for _, c := range st.Children {
				childRestarts[c.ID] = c.Restarts
			}
		}
	}
	for _, c := range children {
		n := ChildNode{ID: c.ID, PID: pidString(c.PID), Type: c.Type.String(), Restart: c.Restart.String(), Restarting: c.Restarting, Restarts: childRestarts[c.ID]}
		switch {
		case c.Restarting:
			n.Status = "restarting"
		case c.PID.IsZero():
			n.Status = "stopped"
		default:
			if info, err := o.node.Info(c.PID); err == nil {
				n.Status = string(info.Status)
				n.Name = info.Name
				n.MailboxLen = info.MailboxLen
			} else if c.PID.Node != o.node.Name() {
				n.Status = "remote"
			} else {
				n.Status = "exited"
			}
		}
		n.RestartsSeen = o.noteChild(pid, c)
		t.RestartsSeen += n.RestartsSeen
		if c.Type == supervisor.SupervisorChild && !c.PID.IsZero() && depth < maxTreeDepth {
			sub := o.tree(ctx, c.PID, depth+1)
			n.Supervisor = &sub
		}
		t.Children = append(t.Children, n)
	}
	return t
}

// noteChild records the PID the observer sees for a static child and
// returns how many times it has seen it change.
func (o *Observer) noteChild(sup actor.PID, c supervisor.ChildInfo) int {
	if c.ID == "" {
		return 0 // a SimpleOneForOne child has no identity across restarts
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	k := childKey{sup: sup, id: c.ID}
	seen := o.children[k]
	if seen == nil {
		seen = &childSeen{}
		o.children[k] = seen
	}
	if !c.PID.IsZero() {
		if !seen.pid.IsZero() && seen.pid != c.PID {
			seen.restarts++
		}
		seen.pid = c.PID
	}
	return seen.restarts
}

// RestartsSeen returns the restarts the observer has noticed, per
// supervisor PID, summed over their children.
func (o *Observer) RestartsSeen() map[actor.PID]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[actor.PID]int{}
	for k, v := range o.children {
		out[k.sup] += v.restarts
	}
	return out
}

// ErrActionsDisabled: a write endpoint was called on an observer without
// AllowActions.
var ErrActionsDisabled = errors.New("observer: actions are disabled")

// Kill sends the local process pid an exit signal with actor.Kill.
func (o *Observer) Kill(pid actor.PID) error {
	if !o.opts.AllowActions {
		return ErrActionsDisabled
	}
	if _, err := o.node.Info(pid); err != nil {
		return err
	}
	o.opts.Logger.Info("observer kills a process", "pid", pid.String())
	return o.node.Exit(pid, actor.Kill)
}

// RestartChild terminates the child id of sup and starts it again (OTP's
// terminate_child followed by restart_child), returning its new PID.
func (o *Observer) RestartChild(ctx context.Context, sup actor.PID, id string) (actor.PID, error) {
	if !o.opts.AllowActions {
		return actor.PID{}, ErrActionsDisabled
	}
	cctx, cancel := o.callContext(ctx)
	defer cancel()
	o.opts.Logger.Info("observer restarts a child", "supervisor", sup.String(), "id", id)
	if err := supervisor.TerminateChild(cctx, o.node, sup, id); err != nil {
		return actor.PID{}, callError("terminate_child", err)
	}
	pid, err := supervisor.RestartChild(cctx, o.node, sup, id)
	if err != nil {
		return actor.PID{}, callError(fmt.Sprintf("restart_child %s", id), err)
	}
	return pid, nil
}
