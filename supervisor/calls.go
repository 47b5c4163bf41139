package supervisor

import (
	"fmt"
	"slices"

	"github.com/gotp-dev/gotp/actor"
)

// HandleCall serves the API. An error is returned as the reply, so that it is
// the caller's error; only Stop ends the supervisor.
func (s *server) HandleCall(p *actor.Process, _ actor.From, req any) (any, error) {
	switch r := req.(type) {
	case startChildReq:
		return s.startChild(p, r.spec), nil
	case startChildArgsReq:
		return s.startChildArgs(p, r.args), nil
	case terminateChildReq:
		return s.terminateChild(p, r.id), nil
	case terminateChildPIDReq:
		return s.terminateChildPID(p, r.pid), nil
	case restartChildReq:
		return s.restartChild(p, r.id), nil
	case deleteChildReq:
		return s.deleteChild(r.id), nil
	case getChildSpecReq:
		return s.getChildSpec(r.id), nil
	case whichChildrenReq:
		return s.whichChildren(), nil
	case countChildrenReq:
		return s.countChildren(p), nil
	case stopReq:
		return nil, actor.Normal
	}
	return fmt.Errorf("supervisor: unknown request %T", req), nil
}

func (s *server) startChild(p *actor.Process, spec ChildSpec) any {
	if s.simple() {
		return ErrSimpleOneForOne
	}
	spec, err := spec.normalize()
	if err != nil {
		return err
	}
	if c := s.findID(spec.ID); c != nil {
		if !c.pid.IsZero() {
			return &AlreadyStartedError{PID: c.pid}
		}
		return ErrAlreadyPresent
	}
	pid, err := s.start(p, spec, nil)
	if err != nil {
		return &StartError{ID: spec.ID, Err: err}
	}
	if pid.IsZero() && spec.Restart == Temporary {
		return pid
	}
	s.children = append(s.children, &child{spec: spec, pid: pid})
	return pid
}

func (s *server) startChildArgs(p *actor.Process, args []any) any {
	if !s.simple() {
		return ErrNotSimpleOneForOne
	}
	template := s.spec.Children[0]
	pid, err := s.start(p, template, args)
	if err != nil {
		return &StartError{ID: template.ID, Err: err}
	}
	if pid.IsZero() {
		return pid
	}
	if template.Restart == Temporary {
		args = nil // never restarted: no need to keep them
	}
	s.nextSeq++
	s.dynamic[pid] = &child{spec: template, pid: pid, args: args, seq: s.nextSeq}
	return pid
}

func (s *server) terminateChild(p *actor.Process, id string) error {
	if s.simple() {
		return ErrSimpleOneForOne
	}
	c := s.findID(id)
	if c == nil {
		return ErrNotFound
	}
	s.terminate(p, c)
	return nil
}

func (s *server) terminateChildPID(p *actor.Process, pid actor.PID) error {
	c := s.findPID(pid)
	if c == nil || pid.IsZero() {
		if s.simple() && !pid.IsZero() && !alive(p, pid) {
			return nil
		}
		return ErrNotFound
	}
	s.terminate(p, c)
	return nil
}

// terminate stops c if it runs and forgets that it does.
func (s *server) terminate(p *actor.Process, c *child) {
	if !c.pid.IsZero() && !c.restarting {
		s.stopProcesses(p, []actor.PID{c.pid}, c.spec)
	}
	s.delChild(c)
}

// stoppedChild finds the child id of a static supervisor that is neither
// running nor waiting for a restart: what RestartChild and DeleteChild need.
func (s *server) stoppedChild(id string) (*child, error) {
	if s.simple() {
		return nil, ErrSimpleOneForOne
	}
	c := s.findID(id)
	switch {
	case c == nil:
		return nil, ErrNotFound
	case c.restarting:
		return nil, ErrRestarting
	case !c.pid.IsZero():
		return nil, ErrRunning
	}
	return c, nil
}

func (s *server) restartChild(p *actor.Process, id string) any {
	c, err := s.stoppedChild(id)
	if err != nil {
		return err
	}
	pid, err := s.start(p, c.spec, nil)
	if err != nil {
		return &StartError{ID: id, Err: err}
	}
	c.pid = pid
	return pid
}

func (s *server) deleteChild(id string) error {
	c, err := s.stoppedChild(id)
	if err != nil {
		return err
	}
	s.children = slices.DeleteFunc(s.children, func(k *child) bool { return k == c })
	return nil
}

func (s *server) getChildSpec(id string) any {
	if s.simple() {
		if t := s.spec.Children[0]; t.ID == id {
			return t
		}
		return ErrNotFound
	}
	if c := s.findID(id); c != nil {
		return c.spec
	}
	return ErrNotFound
}

func (s *server) whichChildren() []ChildInfo {
	if s.simple() {
		kids := s.dynamicInOrder()
		infos := make([]ChildInfo, len(kids))
		for i, c := range kids {
			infos[i] = ChildInfo{Restarting: c.restarting, Type: c.spec.Type, Restart: c.spec.Restart}
			if !c.restarting {
				infos[i].PID = c.pid
			}
		}
		return infos
	}
	infos := make([]ChildInfo, len(s.children))
	for i, c := range s.children {
		infos[i] = ChildInfo{ID: c.spec.ID, PID: c.pid, Restarting: c.restarting, Type: c.spec.Type, Restart: c.spec.Restart}
	}
	return infos
}

func (s *server) countChildren(p *actor.Process) Counts {
	if s.simple() {
		n := Counts{Specs: 1}
		for _, c := range s.dynamic {
			if !c.restarting {
				n.Active++
			}
		}
		if s.spec.Children[0].Type == SupervisorChild {
			n.Supervisors = len(s.dynamic)
		} else {
			n.Workers = len(s.dynamic)
		}
		return n
	}
	var n Counts
	for _, c := range s.children {
		n.Specs++
		if !c.pid.IsZero() && alive(p, c.pid) {
			n.Active++
		}
		if c.spec.Type == SupervisorChild {
			n.Supervisors++
		} else {
			n.Workers++
		}
	}
	return n
}

// alive reports whether the local process pid exists.
func alive(p *actor.Process, pid actor.PID) bool {
	_, err := p.Node().Info(pid)
	return err == nil
}

// BehaviorName names supervisors in actor.Node.Info (and so in the observer).
func (s *server) BehaviorName() string { return "supervisor" }
