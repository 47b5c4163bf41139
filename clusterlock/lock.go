package clusterlock

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gotp-dev/gotp/actor"
)

// Locks acquires locks from the lock servers registered under Name. The
// zero value uses DefaultName.
type Locks struct {
	Name string
}

func (l Locks) name() string {
	if l.Name == "" {
		return DefaultName
	}
	return l.Name
}

// Lock is an acquired lock: held by one holder on every node it was
// acquired on, until Release or the holder's death.
type Lock struct {
	ID     string
	Holder actor.PID
	Nodes  []string // sorted, without duplicates
	name   string
}

// Acquire takes lock id on every one of nodes for holder, waiting while
// another holder has it. Nodes are locked in sorted order, one after the
// other, so two acquirers never wait for each other in a cycle. A holder may
// acquire a lock it holds again (nested); each acquisition needs its Release.
//
// The lock is held until Release or until holder exits (each server
// monitors it, so a dead holder, or a holder on a node that is lost, frees
// its locks). On failure (ctx's deadline: ErrTimeout; an unreachable node or
// a node without a lock server: the call's error) what was taken is given
// back before Acquire returns.
//
// c makes the calls: the node, or the calling process. Calls to one server
// from one caller arrive in order, so use the same c for Release.
func (l Locks) Acquire(ctx context.Context, c actor.Caller, holder actor.PID, id string, nodes []string) (*Lock, error) {
	if holder.IsZero() {
		return nil, ErrNoHolder
	}
	sorted := slices.Clone(nodes)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	if len(sorted) == 0 {
		return nil, ErrNoNodes
	}
	lk := &Lock{ID: id, Holder: holder, Nodes: sorted, name: l.name()}
	for i, node := range sorted {
		_, err := c.Call(ctx, actor.Name{Node: node, Name: lk.name}, setReq{ID: id, Holder: holder})
		if err != nil {
			// Give back what was taken, and withdraw the request that may
			// still wait on node i.
			lk.release(context.WithoutCancel(ctx), c, sorted[:i+1])
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("clusterlock: acquire %q on %s: %w", id, node, ErrTimeout)
			}
			return nil, fmt.Errorf("clusterlock: acquire %q on %s: %w", id, node, err)
		}
	}
	return lk, nil
}

// Release gives the lock back on every node (once, for a nested lock).
// Unreachable nodes are skipped: their servers free the lock when they lose
// the holder's node.
func (lk *Lock) Release(ctx context.Context, c actor.Caller) {
	lk.release(ctx, c, lk.Nodes)
}

func (lk *Lock) release(ctx context.Context, c actor.Caller, nodes []string) {
	for i := len(nodes) - 1; i >= 0; i-- {
		_, _ = c.Call(ctx, actor.Name{Node: nodes[i], Name: lk.name}, releaseReq{ID: lk.ID, Holder: lk.Holder})
	}
}

// Trans runs fn while holding lock id on nodes, as global:trans does. The
// holder is a process Trans spawns on node for the duration: if the calling
// goroutine's work ends in any way, or node goes down, the lock is freed.
func (l Locks) Trans(ctx context.Context, node *actor.Node, id string, nodes []string, fn func(ctx context.Context) error) error {
	holder, err := node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if msg == transDone {
			return actor.Normal
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("clusterlock: trans: %w", err)
	}
	// The holder's exit frees every lock it has, on every node, and any
	// request of its still waiting.
	defer func() { _ = node.Send(holder, transDone) }()
	lk, err := l.Acquire(ctx, node, holder, id, nodes)
	if err != nil {
		return err
	}
	defer lk.Release(context.WithoutCancel(ctx), node)
	return fn(ctx)
}

type transSignal int

const transDone transSignal = 1

// Acquire is Locks{}.Acquire: locks of the servers named DefaultName.
func Acquire(ctx context.Context, c actor.Caller, holder actor.PID, id string, nodes []string) (*Lock, error) {
	return Locks{}.Acquire(ctx, c, holder, id, nodes)
}

// Trans is Locks{}.Trans: locks of the servers named DefaultName.
func Trans(ctx context.Context, node *actor.Node, id string, nodes []string, fn func(ctx context.Context) error) error {
	return Locks{}.Trans(ctx, node, id, nodes, fn)
}
