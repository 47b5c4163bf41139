package supervisor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// child is the supervisor's record of one child: a static child of a
// supervisor, or one dynamic child of a SimpleOneForOne supervisor.
type child struct {
	spec ChildSpec // normalized
	// pid is the running process, or zero. A restarting dynamic child keeps
	// its last PID here, as the key under which the supervisor holds it.
	pid        actor.PID
	restarting bool   // a restart failed; a retry is queued
	restarts   uint64 // restarts this child's exits caused
	args       []any  // dynamic children: the extra start arguments
	seq        uint64 // dynamic children: start order
}

// tryAgainRestart is what a supervisor sends itself after a failed restart,
// so that it handles what is already in its mailbox before it retries (OTP's
// {try_again_restart, Id}).
type tryAgainRestart struct{ c *child }

// server is the supervisor's gen_server. Its state is owned by the
// supervisor's goroutine.
type server struct {
	spec     Spec // normalized
	log      *slog.Logger
	restarts []time.Time // within the last Period, oldest first
	// restartsTotal counts the restarts since the supervisor started.
	restartsTotal uint64

	children []*child             // static children in start order
	dynamic  map[actor.PID]*child // SimpleOneForOne children
	nextSeq  uint64               // numbers dynamic children in start order
}

var (
	_ actor.GenServer   = (*server)(nil)
	_ actor.Initializer = (*server)(nil)
	_ actor.InfoHandler = (*server)(nil)
	_ actor.Terminator  = (*server)(nil)
)

var errNoPID = errors.New("supervisor: start returned neither a PID nor an error")

func newServer(spec Spec) (*server, error) {
	spec, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	return &server{spec: spec}, nil
}

func (s *server) simple() bool { return s.spec.Strategy == SimpleOneForOne }

// Init starts the children in spec order. If one fails, those already
// started are stopped in reverse order and the supervisor does not start.
func (s *server) Init(p *actor.Process) error {
	s.log = p.Node().Logger().With("supervisor", p.Self().String())
	if s.simple() {
		s.dynamic = make(map[actor.PID]*child)
		return nil
	}
	for _, spec := range s.spec.Children {
		pid, err := s.start(p, spec, nil)
		if err != nil {
			s.children = s.terminateChildren(p, s.children)
			return &StartError{ID: spec.ID, Err: err}
		}
		if pid.IsZero() && spec.Restart == Temporary {
			continue
		}
		s.children = append(s.children, &child{spec: spec, pid: pid})
	}
	return nil
}

// Terminate stops every child: static children one by one in reverse start
// order, dynamic children all at once.
func (s *server) Terminate(p *actor.Process, reason error) {
	if s.simple() {
		s.terminateDynamic(p)
		return
	}
	s.children = s.terminateChildren(p, s.children)
}

// HandleInfo handles the exits of children and the retries of failed
// restarts.
func (s *server) HandleInfo(p *actor.Process, msg any) error {
	switch m := msg.(type) {
	case actor.ExitMessage:
		return s.handleExit(p, m.From, m.Reason)
	case tryAgainRestart:
		if s.holds(m.c) && m.c.restarting {
			return s.restart(p, m.c)
		}
		return nil
	}
	s.log.Error("supervisor: unexpected message", "message_type", fmt.Sprintf("%T", msg))
	return nil
}

// start runs a start function, turning a panic into an error and
// actor.Ignore into a zero PID without error.
func (s *server) start(p *actor.Process, spec ChildSpec, args []any) (pid actor.PID, err error) {
	defer func() {
		if r := recover(); r != nil {
			pid, err = actor.PID{}, &actor.PanicError{Value: r, Stack: debug.Stack()}
		}
		if err != nil {
			s.log.Error("supervisor: child failed to start", "child_id", spec.ID, "reason", err.Error())
		}
	}()
	pid, err = spec.Start(p, args...)
	switch {
	case errors.Is(err, actor.Ignore):
		s.log.Debug("supervisor: child ignored start", "child_id", spec.ID)
		return actor.PID{}, nil
	case err != nil:
		return actor.PID{}, err
	case pid.IsZero():
		return actor.PID{}, errNoPID
	}
	s.log.Debug("supervisor: child started", "child_id", spec.ID, "child_pid", pid)
	return pid, nil
}

// handleExit applies the child's restart type to its exit (OTP's
// do_restart).
func (s *server) handleExit(p *actor.Process, pid actor.PID, reason error) error {
	c := s.findPID(pid)
	if c == nil || c.restarting {
		return nil // not a child: a late exit of a child already stopped, or a stranger's
	}
	switch {
	case c.spec.Restart == Permanent:
		s.reportExit(c, reason)
		return s.restart(p, c)
	case actor.IsNormalExit(reason):
		s.delChild(c)
		return nil
	case c.spec.Restart == Transient:
		s.reportExit(c, reason)
		return s.restart(p, c)
	default:
		s.reportExit(c, reason)
		s.delChild(c)
		return nil
	}
}

func (s *server) reportExit(c *child, reason error) {
	level := slog.LevelError
	if actor.IsNormalExit(reason) {
		level = slog.LevelInfo
	}
	if !s.log.Enabled(context.Background(), level) {
		return
	}
	msg := "<nil>"
	if reason != nil {
		msg = reason.Error()
	}
	s.log.Log(context.Background(), level, "supervisor: child terminated", "child_id", c.spec.ID, "child_pid", c.pid.String(), "reason", msg)
}

// restart counts a restart against the intensity and restarts c as the
// strategy says. It returns ErrReachedMaxRestartIntensity, the supervisor's
// exit reason, when the restart is one too many.
func (s *server) restart(p *actor.Process, c *child) error {
	s.restartsTotal++
	c.restarts++
	if !s.addRestart() {
		s.log.Error("supervisor: reached max restart intensity", "child_id", c.spec.ID,
			"intensity", s.spec.Intensity, "period", s.spec.Period.String())
		s.delChild(c)
		return ErrReachedMaxRestartIntensity
	}
	var again *child
	switch s.spec.Strategy {
	case SimpleOneForOne:
		again = s.restartDynamic(p, c)
	case OneForOne:
		again = s.restartOne(p, c)
	case OneForAll:
		again = s.restartFrom(p, c, 0)
	case RestForOne:
		again = s.restartFrom(p, c, slices.Index(s.children, c))
	}
	if again == nil {
		return nil
	}
	if err := p.Send(p.Self(), tryAgainRestart{c: again}); err != nil {
		// A bounded mailbox refused the reminder: retry at once instead.
		return s.restart(p, again)
	}
	return nil
}

// addRestart records a restart now and reports whether the restarts within
// the last Period are still within the Intensity.
func (s *server) addRestart() bool {
	now := time.Now()
	// Restarts are recorded in time order: drop the ones that left the
	// window from the front, and keep no more than one past the intensity
	// (enough to tell it was exceeded), so each restart costs O(1).
	old := 0
	for old < len(s.restarts) && now.Sub(s.restarts[old]) > s.spec.Period {
		old++
	}
	s.restarts = append(s.restarts[old:], now)
	if keep := max(s.spec.Intensity, 0) + 1; len(s.restarts) > keep {
		s.restarts = s.restarts[len(s.restarts)-keep:]
	}
	return len(s.restarts) <= s.spec.Intensity
}

// restartOne restarts c alone. It returns c if the start failed.
func (s *server) restartOne(p *actor.Process, c *child) *child {
	pid, err := s.start(p, c.spec, nil)
	if err != nil {
		c.pid, c.restarting = actor.PID{}, true
		return c
	}
	c.pid, c.restarting = pid, false
	return nil
}

// restartDynamic restarts a SimpleOneForOne child with its arguments. A child
// whose start is ignored is dropped.
func (s *server) restartDynamic(p *actor.Process, c *child) *child {
	delete(s.dynamic, c.pid)
	pid, err := s.start(p, c.spec, c.args)
	if err != nil {
		c.restarting = true
		s.dynamic[c.pid] = c
		return c
	}
	if pid.IsZero() {
		return nil
	}
	c.pid, c.restarting = pid, false
	s.dynamic[pid] = c
	return nil
}

// restartFrom stops the children from index from on (c among them, already
// dead) in reverse order and starts them again in order: OneForAll from 0,
// RestForOne from c. It returns the child whose start failed, if one did;
// the children after it are left not running.
func (s *server) restartFrom(p *actor.Process, c *child, from int) *child {
	c.pid, c.restarting = actor.PID{}, false
	kept := s.terminateChildren(p, s.children[from:])
	s.children = append(s.children[:from:from], kept...)
	for i := from; i < len(s.children); i++ {
		k := s.children[i]
		pid, err := s.start(p, k.spec, nil)
		if err != nil {
			k.restarting = true
			return k
		}
		if pid.IsZero() && k.spec.Restart == Temporary {
			s.children = slices.Delete(s.children, i, i+1)
			i--
			continue
		}
		k.pid = pid
	}
	return nil
}

// delChild forgets that c runs: a temporary or dynamic child is removed, any
// other keeps its spec with no PID.
func (s *server) delChild(c *child) {
	switch {
	case s.simple():
		delete(s.dynamic, c.pid)
	case c.spec.Restart == Temporary:
		s.children = slices.DeleteFunc(s.children, func(k *child) bool { return k == c })
	default:
		c.pid, c.restarting = actor.PID{}, false
	}
}

// holds reports whether c is still one of the supervisor's children.
func (s *server) holds(c *child) bool {
	if s.simple() {
		return s.dynamic[c.pid] == c
	}
	return slices.Contains(s.children, c)
}

// findPID returns the child with the PID (running, or for a dynamic child
// restarting from it), or nil.
func (s *server) findPID(pid actor.PID) *child {
	if s.simple() {
		return s.dynamic[pid]
	}
	for _, c := range s.children {
		if c.pid == pid {
			return c
		}
	}
	return nil
}

// findID returns the static child with the ID, or nil.
func (s *server) findID(id string) *child {
	for _, c := range s.children {
		if c.spec.ID == id {
			return c
		}
	}
	return nil
}

// dynamicInOrder returns the dynamic children in start order.
func (s *server) dynamicInOrder() []*child {
	kids := make([]*child, 0, len(s.dynamic))
	for _, c := range s.dynamic {
		kids = append(kids, c)
	}
	slices.SortFunc(kids, func(a, b *child) int { return cmp.Compare(a.seq, b.seq) })
	return kids
}
