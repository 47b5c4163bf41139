package peerservice

import (
	"context"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
)

// manager is the process that owns the core: it feeds it messages and timer
// ticks and carries out the effects. It runs as a gen_server registered as
// ManagerName under the service's supervisor.
type manager struct {
	svc  *Service
	core *core
}

var (
	_ actor.GenServer   = (*manager)(nil)
	_ actor.Initializer = (*manager)(nil)
	_ actor.InfoHandler = (*manager)(nil)
)

// Timer messages.
type (
	heartbeatTick  struct{}
	gossipTick     struct{}
	retransmitTick struct{}
)

// joinResult reports a finished asynchronous join attempt.
type joinResult struct{ spec remote.NodeSpec }

// Calls from the Service handle.
type (
	callMembers   struct{ all bool }
	callJoined    struct{ spec remote.NodeSpec }
	callLeave     struct{}
	callLeaveNode struct{ name string }
	callUpdate    struct{ specs []remote.NodeSpec }
	callForward   struct {
		dest string
		msg  forwardMsg
	}
	callInject struct {
		origin string
		ttl    int
	}
	callResolve    struct{ ref string }
	callPartitions struct{}
	callReserve    struct{ tag string }
	callStats      struct{}
	callState      struct{}
)

// Stats are counters of the manager, for tests and operators.
type Stats struct {
	// GossipRounds counts gossip ticks since the manager started.
	GossipRounds int
	// Digest is the hash of the membership state; equal digests mean equal
	// states.
	Digest uint64
	// Up lists the peers the failure detector holds alive.
	Up []string
	// PendingAcks counts acknowledged forwards still unacknowledged.
	PendingAcks int
}

func (m *manager) Init(p *actor.Process) error {
	s := m.svc
	s.mu.Lock()
	s.manager = p.Self()
	s.mu.Unlock()
	now := time.Now()
	self := s.r.Spec()
	actorID := fmt.Sprintf("%s/%d/%s", self.Name, s.node.Creation(), s.node.MakeRef().String())
	cfg := s.cfg
	if cfg.Seed == 0 {
		cfg.Seed = uint64(s.node.Creation())
	}
	m.core = newCore(cfg, self, actorID, now)
	if cfg.DataDir != "" {
		st, ok, err := loadState(cfg.DataDir)
		if err != nil {
			return err
		}
		if ok {
			m.core.restore(st, now)
			for _, t := range m.core.targets {
				s.r.Learn(t)
			}
		}
	}
	s.policy.update(m.core)
	// Nodes started together tick at different moments, so that two of
	// them do not probe each other at the same instant.
	p.SendAfter(cfg.HeartbeatInterval+m.core.jitter(cfg.HeartbeatInterval), p.Self(), heartbeatTick{})
	p.SendAfter(cfg.GossipInterval+m.core.jitter(cfg.GossipInterval), p.Self(), gossipTick{})
	p.SendAfter(cfg.RetransmitInterval, p.Self(), retransmitTick{})
	return nil
}

func (m *manager) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	now := time.Now()
	c := m.core
	switch r := req.(type) {
	case callMembers:
		if r.all {
			return c.members(), nil
		}
		return c.view(), nil
	case callJoined:
		m.svc.r.Learn(r.spec)
		m.apply(p, c.joined(r.spec, now))
		return nil, nil
	case callLeave:
		m.apply(p, c.leave(now))
		return nil, nil
	case callLeaveNode:
		m.apply(p, c.leaveNode(r.name, now))
		return nil, nil
	case callUpdate:
		m.apply(p, c.updateMembers(r.specs, now))
		return nil, nil
	case callForward:
		m.apply(p, c.forward(r.dest, r.msg, now))
		return nil, nil
	case callInject:
		ref, eff := c.injectPartition(r.origin, r.ttl)
		m.apply(p, eff)
		m.svc.policy.update(c)
		return ref, nil
	case callResolve:
		eff, err := c.resolvePartition(r.ref)
		if err != nil {
			return err, nil
		}
		m.apply(p, eff)
		m.svc.policy.update(c)
		return nil, nil
	case callPartitions:
		return c.partitionList(), nil
	case callReserve:
		if err := c.reserve(r.tag); err != nil {
			return err, nil
		}
		return nil, nil
	case callState:
		return c.set.State(), nil
	case callStats:
		st := Stats{GossipRounds: c.gossipRounds, Digest: c.set.Digest(), PendingAcks: c.pendingCount()}
		for _, n := range c.targetNames() {
			if c.det.isUp(n) {
				st.Up = append(st.Up, n)
			}
		}
		return st, nil
	}
	return fmt.Errorf("peerservice: unknown request %T", req), nil
}

func (m *manager) HandleInfo(p *actor.Process, msg any) error {
	now := time.Now()
	c := m.core
	cfg := m.svc.cfg
	switch msg := msg.(type) {
	case heartbeatTick:
		m.apply(p, c.heartbeatTick(now))
		p.SendAfter(cfg.HeartbeatInterval, p.Self(), heartbeatTick{})
	case gossipTick:
		m.apply(p, c.gossipTick(now))
		p.SendAfter(cfg.GossipInterval, p.Self(), gossipTick{})
	case retransmitTick:
		m.apply(p, c.retransmitTick(now))
		p.SendAfter(cfg.RetransmitInterval, p.Self(), retransmitTick{})
	case heartbeatMsg:
		m.apply(p, c.handleHeartbeat(msg, now))
	case gossipMsg:
		m.apply(p, c.handleGossip(msg, now))
	case partitionMsg:
		m.apply(p, c.handlePartition(msg))
		m.svc.policy.update(c)
	case ackMsg:
		c.handleAck(msg)
	case floorMsg:
		m.apply(p, c.handleFloor(msg))
	case nodeDownMsg:
		m.apply(p, c.handleNodeDown(msg))
	case joinResult:
		m.svc.r.Learn(msg.spec)
		m.apply(p, c.joined(msg.spec, now))
	case []any:
		parsed, ok := parseList(msg)
		if !ok {
			m.svc.log.Warn("unknown list message", "len", len(msg))
			return nil
		}
		switch v := parsed.(type) {
		case forwardMsg:
			m.apply(p, c.handleForward(v, now))
		case userMsg:
			m.apply(p, effects{user: []userMsg{v}})
		}
	default:
		m.svc.log.Debug("unexpected message", "type", fmt.Sprintf("%T", msg))
	}
	return nil
}

// apply carries out effects, in an order that keeps them meaningful:
// disconnect first (links and monitors fire noconnection before anything
// else is said about the node), then messages, then notifications.
func (m *manager) apply(p *actor.Process, eff effects) {
	s := m.svc
	for _, spec := range eff.learn {
		s.r.Learn(spec)
	}
	for _, n := range eff.disconnect {
		s.log.Info("disconnecting peer", "peer", n)
		s.r.Disconnect(n)
	}
	for _, d := range eff.declareDown {
		s.log.Info("relayed peer down", "peer", d.node, "found_by", d.by)
		s.r.DeclareDown(d.node, fmt.Errorf("%w: %s, found by %s", ErrRelayedDown, d.node, d.by))
	}
	for _, o := range eff.sends {
		if o.ifConnected && !s.r.IsConnected(o.to) {
			continue
		}
		err := s.r.Send(s.ctx, p.Self(), actor.Name{Node: o.to, Name: ManagerName}, o.msg, remote.SendOptions{})
		if err != nil {
			s.log.Debug("send to peer manager failed", "peer", o.to, "err", err.Error())
		}
	}
	for _, f := range eff.deliver {
		var err error
		if f.To.IsZero() {
			err = s.node.Send(actor.Name{Name: f.ToName.Name}, f.Msg)
		} else {
			err = s.node.Send(f.To, f.Msg)
		}
		if err != nil {
			s.log.Debug("forwarded message undeliverable", "err", err.Error())
		}
	}
	if eff.changed || len(eff.up) > 0 || len(eff.down) > 0 || len(eff.disconnect) > 0 {
		s.policy.update(m.core)
	}
	for _, spec := range eff.down {
		s.log.Info("peer down", "peer", spec.Name)
		s.notify.fire(s.notify.down, spec)
	}
	for _, spec := range eff.up {
		s.log.Info("peer up", "peer", spec.Name)
		s.notify.fire(s.notify.up, spec)
	}
	if eff.changed {
		members := m.core.members()
		if s.cfg.DataDir != "" {
			m.persist()
		}
		s.notify.membership(members)
	}
	for _, u := range eff.user {
		if fn := s.cfg.OnMessage; fn != nil {
			s.notify.post(func() { fn(u.From, u.Msg) })
		}
	}
	for _, spec := range eff.joins {
		s.startJoin(spec)
	}
	for _, spec := range eff.connect {
		s.startConnect(spec)
	}
}

// persist saves membership to the data directory, or, once this node has
// left (or was removed), deletes what was saved.
func (m *manager) persist() {
	s := m.svc
	var err error
	if m.core.left {
		err = clearState(s.cfg.DataDir)
	} else {
		err = saveState(s.cfg.DataDir, m.core.set.State())
	}
	if err != nil {
		s.log.Error("persisting membership failed", "err", err.Error())
	}
}

// startConnect opens every channel's connections to a peer in the
// background; a failure is left to the failure detector.
func (s *Service) startConnect(spec remote.NodeSpec) {
	s.track(nil, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, s.cfg.JoinTimeout)
		defer cancel()
		if err := s.r.Connect(ctx, spec); err != nil {
			s.log.Debug("connect failed", "peer", spec.Name, "err", err.Error())
		}
	})
}

// connectReferred connects to spec, following referrals (a client that
// refuses another client names a server to join instead). It returns the
// spec of the node actually connected to, as its handshake told it.
func (s *Service) connectReferred(ctx context.Context, spec remote.NodeSpec) (remote.NodeSpec, error) {
	for range 4 {
		err := s.r.Connect(ctx, spec)
		if err == nil {
			for _, p := range s.r.Peers() {
				if p.Name == spec.Name {
					return p, nil
				}
			}
			return spec, nil
		}
		var ref *remote.Refusal
		if !errorsAs(err, &ref) || ref.Referral.Name == "" {
			return remote.NodeSpec{}, err
		}
		s.log.Info("join referred", "to", spec.Name, "referral", ref.Referral.Name)
		spec = ref.Referral
	}
	return remote.NodeSpec{}, fmt.Errorf("peerservice: join %s: too many referrals: %w", spec.Name, remote.ErrRefused)
}

// startJoin joins spec in the background, retrying with backoff until it
// succeeds, the node leaves or the service stops.
func (s *Service) startJoin(spec remote.NodeSpec) {
	s.track(s.joinContext(), func(ctx context.Context) {
		wait := s.cfg.ReconnectBackoff
		for {
			attempt, cancel := context.WithTimeout(ctx, s.cfg.JoinTimeout)
			got, err := s.connectReferred(attempt, spec)
			cancel()
			if err == nil {
				_ = s.node.Send(actor.Name{Name: ManagerName}, joinResult{spec: got})
				return
			}
			s.log.Debug("join attempt failed", "peer", spec.Name, "err", err.Error())
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			wait = min(2*wait, s.cfg.MaxReconnectBackoff)
		}
	})
}
