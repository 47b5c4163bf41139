package ensemble

import (
	"fmt"
	"math/rand/v2"

	"github.com/gotp-dev/gotp/actor"
)

// router is one of a node's pool of routers (riak_ensemble_router). A
// request called on it is not answered by it: it looks the ensemble's
// leader up in the node's directory and hands the request, with the
// caller's From, to the local peer or to a router on the leader's node,
// and whoever serves it answers the caller directly. The actor layer's
// call aliases drop an answer that comes after the caller gave up, so
// riak's proxy process is not needed.
type router struct {
	dir *directory
	cfg Config
}

var (
	_ actor.GenServer   = (*router)(nil)
	_ actor.InfoHandler = (*router)(nil)
)

func (r *router) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	switch q := req.(type) {
	case routeReq:
		return r.route(p, routed{From: from, Ens: q.Ens, Op: q.Op}), nil
	}
	return fmt.Errorf("ensemble: unknown request %T", req), nil
}

func (r *router) HandleInfo(p *actor.Process, msg any) error {
	if m, ok := msg.(routed); ok {
		if ret := r.route(p, m); ret != actor.NoReply {
			_ = p.Reply(m.From, ret)
		}
	}
	return nil
}

// route delivers a request towards the ensemble's leader and returns
// actor.NoReply, or the error to answer at once: ErrTimeout when no leader
// is known, the hop limit is reached or the leader's node cannot be sent
// to (a send to it makes the distribution dial it again), ErrUnavailable
// when the ensemble is unknown here.
func (r *router) route(p *actor.Process, m routed) any {
	self := p.Node().Name()
	v, known := r.dir.view(m.Ens)
	pid, local := r.dir.localPeer(m.Ens)
	switch {
	case !known && !local:
		return ErrUnavailable
	case local && (v.Leader == self || v.Leader == ""):
		// The local peer serves it or forwards it to the leader it knows.
		if err := p.Send(pid, m); err != nil {
			return ErrTimeout
		}
		return actor.NoReply
	case m.Hops >= r.cfg.MaxHops:
		return ErrTimeout
	}
	target := v.Leader
	if target == "" || target == self {
		// No leader known: any member's peer may know it.
		members := v.Members
		if len(members) == 0 {
			return ErrTimeout
		}
		target = members[rand.IntN(len(members))]
		if target == self {
			return ErrTimeout
		}
	}
	m.Hops++
	to := actor.Name{Node: target, Name: routerName(rand.IntN(r.cfg.RouterPoolSize))}
	if err := p.Send(to, m); err != nil {
		return ErrTimeout
	}
	return actor.NoReply
}
