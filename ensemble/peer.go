package ensemble

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// peer is the process of one ensemble's peer on this node
// (riak_ensemble_peer): a thin shell that drives a peerCore. Its inputs are
// the node's ticks and the peer messages the manager hands it, requests
// (called on it directly or routed to it) and wake-ups. It sends its Raft
// messages to the manager, which batches them per node.
type peer struct {
	in      peerInit
	manager actor.PID
	c       *peerCore
	watch   watchers
	// flushQueued: a flushNow is in the mailbox; messages and requests
	// that arrive before it are handled with one Ready.
	flushQueued bool
}

// Messages between the manager and its peers.
type (
	tickMsg  struct{}
	flushNow struct{}
	wakeMsg  struct{}
	// stopMsg ends the peer (its backend is closed in Terminate).
	stopMsg struct{}
	// inbound are peer messages for this peer, in arrival order.
	inbound struct {
		From string // the sending node
		Envs []peerEnv
	}
	// outbound are a peer's messages for peers on other nodes.
	outbound struct{ Msgs []peerOut }
	// peerState tells the manager what changed in a peer.
	peerState struct {
		Ens       string
		View      View
		Quiescent bool
		Removed   bool
	}
	// statusRouted asks the peer to answer a status call.
	statusRouted struct{ From actor.From }
	// confRouted is an UpdateMembers handed to the peer by its manager.
	confRouted struct {
		From     actor.From
		Add, Del []string
	}
)

var (
	_ actor.GenServer   = (*peer)(nil)
	_ actor.Initializer = (*peer)(nil)
	_ actor.InfoHandler = (*peer)(nil)
	_ actor.Terminator  = (*peer)(nil)
)

func (s *peer) Init(p *actor.Process) error {
	s.in.now = time.Now()
	c, err := newPeerCore(s.in)
	if err != nil {
		return err
	}
	s.c = c
	return s.flush(p)
}

func (s *peer) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	c := s.c
	c.now = time.Now()
	var ret any
	switch r := req.(type) {
	case kvReq:
		ret = s.request(p, from, r.Op, 0)
	case statusReq:
		ret = c.status()
	default:
		ret = fmt.Errorf("ensemble: unknown request %T", req)
	}
	return ret, s.deferFlush(p)
}

func (s *peer) HandleInfo(p *actor.Process, msg any) error {
	c := s.c
	c.now = time.Now()
	switch m := msg.(type) {
	case inbound:
		for _, e := range m.Envs {
			c.step(m.From, e, c.now)
		}
		return s.deferFlush(p)
	case routed:
		if r := s.request(p, m.From, m.Op, m.Hops); r != actor.NoReply {
			_ = p.Reply(m.From, r)
		}
		return s.deferFlush(p)
	case confRouted:
		switch r := c.updateMembers(m.From, m.Add, m.Del); r {
		case actor.NoReply:
		case errNotLeader:
			_ = p.Reply(m.From, ErrTimeout)
		default:
			_ = p.Reply(m.From, r)
		}
	case watchRouted:
		if m.Stop {
			s.watch.remove(p, m.Watcher)
		} else {
			s.watch.add(p, s.leaderStatus(), m.Watcher)
		}
	case actor.DownMessage:
		s.watch.remove(p, m.PID)
	case statusRouted:
		_ = p.Reply(m.From, c.status())
	case flushNow:
		s.flushQueued = false
	case tickMsg:
		c.tick(c.now)
	case wakeMsg:
		c.wake()
	case stopMsg:
		return actor.Shutdown
	}
	return s.flush(p)
}

func (s *peer) Terminate(p *actor.Process, reason error) {
	_ = s.c.backend.Close()
	s.c.closeDisk()
}

// request serves a K/V operation, or forwards it towards the leader this
// peer knows (to a router on the leader's node), within the hop limit.
func (s *peer) request(p *actor.Process, from actor.From, op kvOp, hops int) any {
	c := s.c
	r := c.request(from, op)
	if r != errNotLeader {
		return r
	}
	leader := c.leaderNode()
	if leader == "" || leader == c.node || hops >= c.cfg.MaxHops {
		return ErrTimeout
	}
	to := actor.Name{Node: leader, Name: routerName(rand.IntN(c.cfg.RouterPoolSize))}
	if err := p.Send(to, routed{From: from, Ens: c.ens, Op: op, Hops: hops + 1}); err != nil {
		return ErrTimeout
	}
	return actor.NoReply
}

func (s *peer) leaderStatus() LeaderStatus {
	st := s.c.status()
	return LeaderStatus{Ensemble: st.Ensemble, Node: st.Node, Leading: st.State == "leader", Epoch: st.Term}
}

func (s *peer) deferFlush(p *actor.Process) error {
	if s.flushQueued {
		return nil
	}
	if err := p.Send(p.Self(), flushNow{}); err != nil {
		return s.flush(p)
	}
	s.flushQueued = true
	return nil
}

// flush processes Ready and carries out the core's effects: peer messages
// to the manager (one message per flush), answers, and what changed.
func (s *peer) flush(p *actor.Process) error {
	c := s.c
	for {
		if err := c.process(); err != nil {
			return err
		}
		if len(c.out) == 0 && len(c.replies) == 0 {
			break
		}
		out, replies := c.out, c.replies
		c.out, c.replies = nil, nil
		if len(out) > 0 {
			_ = p.Send(s.manager, outbound{Msgs: out})
		}
		for _, r := range replies {
			_ = p.Reply(r.to, r.value)
		}
	}
	if c.changed || c.removed {
		c.changed = false
		s.watch.update(p, s.leaderStatus())
		cur, old := c.members()
		_ = p.Send(s.manager, peerState{
			Ens:       c.ens,
			View:      View{Ensemble: c.ens, Leader: c.leaderNode(), Term: c.rn.BasicStatus().Term, Members: cur, OldMembers: old},
			Quiescent: c.quiesced,
			Removed:   c.removed,
		})
	}
	return nil
}
