package actor

import (
	"context"
	"errors"
	"fmt"
)

// Inspector is implemented by a Behavior or GenServer that can describe its
// state, as sys:get_state/1 shows a gen_server's: Inspect runs on the
// process's own goroutine, between two messages, and its result goes to
// Node.Inspect's caller. It should return a copy, not something the process
// goes on changing.
type Inspector interface {
	Inspect() any
}

// ErrNotInspectable: the process runs a behaviour that is not an Inspector.
var ErrNotInspectable = errors.New("actor: the process's behaviour does not implement Inspector")

// Inspect asks a local process for its state (sys:get_state): the process
// answers when its mailbox reaches the request, in order with what was sent
// to it before, with what its Behavior's (or GenServer's) Inspect returns.
// It returns ErrNotInspectable when the behaviour has no Inspect, the
// process's exit reason if it exits first, a *DestError as Call does (noproc,
// timeout), and an error for a process on another node.
func (n *Node) Inspect(ctx context.Context, to Dest) (any, error) {
	if !n.isLocal(destNode(to)) {
		return nil, fmt.Errorf("actor: inspect %s: only processes of this node can be inspected", to)
	}
	return n.request(ctx, nil, n.nodePID(), to, "inspect", &signal{kind: sigInspect, alias: true})
}

func inspectorOf(b Behavior) Inspector {
	if s, ok := b.(*server); ok {
		i, _ := s.gs.(Inspector)
		return i
	}
	i, _ := b.(Inspector)
	return i
}

// inspect answers an Inspect on the process's goroutine; a panicking Inspect
// is the asker's error, not the process's end.
func (p *Process) inspect() (v any) {
	i := inspectorOf(p.behavior)
	if i == nil {
		return ErrNotInspectable
	}
	defer func() {
		if r := recover(); r != nil {
			v = fmt.Errorf("actor: Inspect panicked: %v", r)
		}
	}()
	return i.Inspect()
}
