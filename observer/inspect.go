package observer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gotp-dev/gotp/actor"
)

// Inspector is implemented by a gen_server that shows its state on its
// process page, as sys:get_state shows an Erlang gen_server's. Inspect runs
// on the process's own goroutine, between two messages, so it reads the
// state as the process sees it; it returns a value encoding/json can
// marshal (anything else is shown formatted with %+v).
// It is actor.Inspector: a behaviour that implements it shows its state
// whether or not it was started by Inspectable.
type Inspector = actor.Inspector

// Inspectable wraps a gen_server so that the observer knows it: the process
// table shows behaviour as its behaviour, and, if s implements Inspector,
// its process page can show its state. Spawn the result as any other
// behaviour (actor.Spawn, supervisor.BehaviorWorker).
//
// The runtime has no inspection hook of its own, so the observer only asks
// the processes that were started this way: it never sends a request to a
// process that might not understand it.
func Inspectable(behaviour string, s actor.GenServer) actor.Behavior {
	return actor.Server(&inspectable{name: behaviour, inner: s})
}

// inspectRequest is the call the observer makes to an inspectable process.
type inspectRequest struct{}

// registry holds the inspectable processes of every node in the OS
// process, by PID, with their behaviour names. An entry is removed by
// Terminate, or, for a process killed without it, by the next sweep.
var registry = struct {
	m    sync.Map // actor.PID -> registered
	size atomic.Int64
}{}

type registered struct {
	behaviour string
	inspects  bool
}

func register(pid actor.PID, r registered) {
	if _, loaded := registry.m.Swap(pid, r); !loaded {
		registry.size.Add(1)
	}
}

func unregister(pid actor.PID) {
	if _, loaded := registry.m.LoadAndDelete(pid); loaded {
		registry.size.Add(-1)
	}
}

func lookup(pid actor.PID) (registered, bool) {
	v, ok := registry.m.Load(pid)
	if !ok {
		return registered{}, false
	}
	return v.(registered), true
}

// sweepAbove is how many more entries than live processes the registry
// may hold before a sweep drops those of exited processes.
const sweepAbove = 1024

// sweep drops the entries of node's exited processes once the registry
// has grown well past the processes alive.
func sweep(node *actor.Node, alive int) {
	if registry.size.Load() <= int64(alive+sweepAbove) {
		return
	}
	registry.m.Range(func(k, _ any) bool {
		pid := k.(actor.PID)
		if pid.Node == node.Name() && pid.Creation == node.Creation() {
			if _, err := node.Info(pid); err != nil {
				unregister(pid)
			}
		}
		return true
	})
}

type inspectable struct {
	name  string
	inner actor.GenServer
}

func (w *inspectable) Init(p *actor.Process) error {
	_, inspects := w.inner.(Inspector)
	register(p.Self(), registered{behaviour: w.name, inspects: inspects})
	if in, ok := w.inner.(actor.Initializer); ok {
		if err := in.Init(p); err != nil {
			unregister(p.Self())
			return err
		}
	}
	return nil
}

func (w *inspectable) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if _, ok := req.(inspectRequest); ok {
		if in, ok := w.inner.(Inspector); ok {
			return inspectState(in), nil
		}
		return fmt.Errorf("observer: %s does not implement Inspector", w.name), nil
	}
	return w.inner.HandleCall(p, from, req)
}

// inspectState runs Inspect, turning a panic into the state shown rather
// than the process's exit.
func inspectState(in Inspector) (state any) {
	defer func() {
		if v := recover(); v != nil {
			state = fmt.Errorf("observer: Inspect panicked: %v", v)
		}
	}()
	return stateValue{in.Inspect()}
}

// stateValue carries an inspected state back to the observer (a wrapper,
// so that a state that is itself an error is not taken for Call's error).
type stateValue struct{ v any }

func (w *inspectable) HandleCast(p *actor.Process, msg any) error {
	if c, ok := w.inner.(actor.CastHandler); ok {
		return c.HandleCast(p, msg)
	}
	p.Node().Logger().Warn("cast dropped: no HandleCast", "pid", p.Self().String(), "behaviour", w.name)
	return nil
}

func (w *inspectable) HandleInfo(p *actor.Process, msg any) error {
	if i, ok := w.inner.(actor.InfoHandler); ok {
		return i.HandleInfo(p, msg)
	}
	p.Node().Logger().Warn("message dropped: no HandleInfo", "pid", p.Self().String(), "behaviour", w.name)
	return nil
}

func (w *inspectable) Terminate(p *actor.Process, reason error) {
	unregister(p.Self())
	if t, ok := w.inner.(actor.Terminator); ok {
		t.Terminate(p, reason)
	}
}

// ProcessState is what the state endpoint answers.
type ProcessState struct {
	PID       string `json:"pid"`
	Behaviour string `json:"behaviour"`
	// State is the value Inspect returned, as JSON, or Text when it does
	// not encode.
	State json.RawMessage `json:"state,omitempty"`
	Text  string          `json:"text,omitempty"`
}

// State asks an inspectable process for its state (see Inspectable).
// A process that was not started by Inspectable is ErrNotFound: it is
// never sent the request.
func (o *Observer) State(ctx context.Context, pid actor.PID) (ProcessState, error) {
	reg, ok := lookup(pid)
	cctx, cancel := o.callContext(ctx)
	defer cancel()
	if !ok || !reg.inspects {
		// The runtime's own hook: a behaviour that implements
		// actor.Inspector (a supervisor does) answers in order.
		info, err := o.node.Info(pid)
		if err != nil {
			return ProcessState{}, err
		}
		v, err := o.node.Inspect(cctx, pid)
		if errors.Is(err, actor.ErrNotInspectable) {
			return ProcessState{}, fmt.Errorf("%w: %s does not show its state (its behaviour implements no actor.Inspector)", ErrNotFound, pid)
		}
		if err != nil {
			return ProcessState{}, callError("inspect", err)
		}
		st := ProcessState{PID: pid.String(), Behaviour: info.Behavior}
		if b, err := json.Marshal(v); err == nil {
			st.State = b
		} else {
			st.Text = fmt.Sprintf("%+v", v)
		}
		return st, nil
	}
	reply, err := o.node.Call(cctx, pid, inspectRequest{})
	if err != nil {
		return ProcessState{}, callError("inspect", err)
	}
	st := ProcessState{PID: pid.String(), Behaviour: reg.behaviour}
	sv, ok := reply.(stateValue)
	if !ok {
		return ProcessState{}, fmt.Errorf("inspect: unexpected reply %T", reply)
	}
	if b, err := json.Marshal(sv.v); err == nil {
		st.State = b
	} else {
		st.Text = fmt.Sprintf("%+v", sv.v)
	}
	return st, nil
}
