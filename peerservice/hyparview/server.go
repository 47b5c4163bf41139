package hyparview

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
)

// server is the manager process: it owns the core, feeds it messages,
// connection losses and ticks, and carries out its effects.
type server struct {
	svc  *Service
	core *Core[string]
	self remote.NodeSpec

	specs    map[string]remote.NodeSpec // addresses of the nodes the views name
	contacts []remote.NodeSpec          // join targets, retried while the active view is empty
	waiters  []actor.From               // SyncJoin calls waiting for an active peer
	left     bool

	partitions []peerservice.Partition
	seenParts  []string // refs injected or resolved here, to flood once
	nextRef    int
	unwatch    func()
}

var (
	_ actor.GenServer   = (*server)(nil)
	_ actor.Initializer = (*server)(nil)
	_ actor.InfoHandler = (*server)(nil)
	_ actor.Terminator  = (*server)(nil)
)

type (
	shuffleTick struct{}
	coreTick    struct{}
)

func (m *server) Init(p *actor.Process) error {
	s := m.svc
	m.self = s.r.Spec()
	seed := s.cfg.Seed
	core, err := NewCore(m.self.Name, s.cfg.Protocol, rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
	if err != nil {
		return err
	}
	m.core = core
	m.specs = map[string]remote.NodeSpec{}
	m.unwatch = s.r.Watch(p.Self())
	// Offsets keep nodes started together from shuffling in step.
	p.SendAfter(s.cfg.ShuffleInterval/2+jitter(seed, s.cfg.ShuffleInterval/2), p.Self(), shuffleTick{})
	p.SendAfter(s.cfg.TickInterval, p.Self(), coreTick{})
	// A restarted manager starts with empty views and joins again through
	// the contacts of its predecessor.
	for _, spec := range s.savedContacts() {
		m.join(p, spec)
	}
	return nil
}

func (m *server) Terminate(p *actor.Process, reason error) {
	if m.unwatch != nil {
		m.unwatch()
	}
}

func (m *server) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	c := m.core
	switch req := req.(type) {
	case callActive:
		return sorted(c.Active()), nil
	case callPassive:
		return sorted(c.Passive()), nil
	case callState:
		return m.state(), nil
	case callJoin:
		m.join(p, req.spec)
		return nil, nil
	case callSyncJoin:
		m.join(p, req.spec)
		if len(c.Active()) > 0 {
			return nil, nil
		}
		m.waiters = append(m.waiters, from)
		return actor.NoReply, nil
	case callLeave:
		m.left = true
		m.contacts = nil
		m.svc.saveContacts(nil)
		m.apply(p, c.Leave())
		return nil, nil
	case callLeaveNode:
		m.send(p, req.node, wireMsg{Kind: kindLeave, From: m.self.Name})
		return nil, nil
	case callUpdate:
		for _, spec := range req.specs {
			if spec.Name != m.self.Name {
				m.learn(spec)
			}
		}
		if len(c.Active()) == 0 {
			for _, spec := range req.specs {
				if spec.Name != m.self.Name {
					m.join(p, spec)
					break
				}
			}
		}
		return nil, nil
	case callInject:
		m.nextRef++
		ref := fmt.Sprintf("%s/%d/%d", m.self.Name, m.svc.node.Creation(), m.nextRef)
		m.onPartition(p, wireMsg{Kind: kindPartition, From: m.self.Name, Ref: ref, Origin: req.origin, TTL: req.ttl})
		return ref, nil
	case callResolve:
		m.onPartition(p, wireMsg{Kind: kindPartition, From: m.self.Name, Ref: req.ref, Resolve: true})
		return nil, nil
	case callPartitions:
		return slices.Clone(m.partitions), nil
	}
	return fmt.Errorf("hyparview: unknown request %T", req), nil
}

func (m *server) HandleInfo(p *actor.Process, msg any) error {
	s := m.svc
	switch msg := msg.(type) {
	case shuffleTick:
		if !m.left {
			m.apply(p, m.core.Shuffle())
		}
		p.SendAfter(s.cfg.ShuffleInterval, p.Self(), shuffleTick{})
	case coreTick:
		if !m.left {
			m.apply(p, m.core.Tick())
			if len(m.core.Active()) == 0 && len(m.core.Pending()) == 0 {
				for _, spec := range m.contacts {
					m.apply(p, m.core.Join(spec.Name))
				}
			}
		}
		p.SendAfter(s.cfg.TickInterval, p.Self(), coreTick{})
	case remote.Event:
		peer := msg.Peer.Name
		if msg.Kind == remote.PeerDown && (m.core.IsActive(peer) || m.core.IsPending(peer)) {
			s.log.Info("active peer lost", "peer", peer)
			m.apply(p, m.core.PeerDown(peer))
		}
	case wireMsg:
		m.handleWire(p, msg)
	case []any:
		if len(msg) == 3 && msg[0] == tagUser {
			from, ok := msg[1].(string)
			if fn := s.cfg.OnMessage; fn != nil && ok {
				payload := msg[2]
				s.post(func() { fn(from, payload) })
			}
		}
	default:
		s.log.Debug("unexpected message", "type", fmt.Sprintf("%T", msg))
	}
	return nil
}

func (m *server) handleWire(p *actor.Process, w wireMsg) {
	for _, spec := range w.Specs {
		m.learn(spec)
	}
	switch w.Kind {
	case kindPartition:
		m.onPartition(p, w)
		return
	case kindHolds:
		m.svc.policy.addCut(w.From, w.Ref)
		return
	case kindLeave:
		m.left = true
		m.contacts = nil
		m.svc.saveContacts(nil)
		m.apply(p, m.core.Leave())
		return
	}
	msg, ok := decode(w)
	if !ok || w.From == "" {
		return
	}
	if m.left {
		// A node that left answers requests to take it back with a refusal.
		if _, isNeighbor := msg.(Neighbor); isNeighbor {
			m.send(p, w.From, wireMsg{Kind: kindNeighborReply, From: m.self.Name})
		}
		return
	}
	m.apply(p, m.core.Handle(w.From, msg))
}

// join makes spec a contact and sends it JOIN.
func (m *server) join(p *actor.Process, spec remote.NodeSpec) {
	if spec.Name == "" || spec.Name == m.self.Name {
		return
	}
	m.left = false
	m.learn(spec)
	if !slices.ContainsFunc(m.contacts, func(c remote.NodeSpec) bool { return c.Name == spec.Name }) {
		m.contacts = append(m.contacts, spec)
		m.svc.saveContacts(m.contacts)
	}
	if len(m.core.Active()) == 0 {
		m.apply(p, m.core.Join(spec.Name))
	}
}

func (m *server) learn(spec remote.NodeSpec) {
	if spec.Name == "" || spec.Name == m.self.Name {
		return
	}
	if _, ok := m.specs[spec.Name]; !ok {
		m.svc.r.Learn(spec)
	}
	m.specs[spec.Name] = spec
}

// apply carries out the core's effects: the messages first, then the
// changes of the active view.
func (m *server) apply(p *actor.Process, eff Effects[string]) {
	var failed []string
	for _, snd := range eff.Sends {
		w, names := encode(m.self.Name, snd.Msg)
		w.Specs = m.specsOf(names)
		if err := m.send(p, snd.To, w); err != nil {
			failed = append(failed, snd.To)
		}
	}
	if len(eff.Changes) > 0 {
		members := m.members()
		for _, ch := range eff.Changes {
			spec, ok := m.specs[ch.Peer]
			if !ok {
				spec = remote.NodeSpec{Name: ch.Peer}
			}
			m.svc.log.Debug("active view changed", "peer", ch.Peer, "up", ch.Up)
			m.svc.notifyChange(spec, ch.Up, members)
		}
		if len(m.core.Active()) > 0 {
			for _, w := range m.waiters {
				_ = p.Reply(w, nil)
			}
			m.waiters = nil
		}
	}
	m.trimSpecs()
	for _, peer := range failed {
		m.apply(p, m.core.PeerDown(peer))
	}
}

func (m *server) send(p *actor.Process, to string, w wireMsg) error {
	w.From = m.self.Name
	w.Specs = append([]remote.NodeSpec{m.self}, w.Specs...)
	err := m.svc.r.Send(context.Background(), p.Self(), actor.Name{Node: to, Name: ManagerName}, w, remote.SendOptions{})
	if err != nil {
		m.svc.log.Debug("send to peer manager failed", "peer", to, "err", err.Error())
	}
	return err
}

func (m *server) specsOf(names []string) []remote.NodeSpec {
	var out []remote.NodeSpec
	for _, n := range names {
		if spec, ok := m.specs[n]; ok {
			out = append(out, spec)
		}
	}
	return out
}

// trimSpecs forgets the addresses of nodes neither view holds any more,
// nor a contact.
func (m *server) trimSpecs() {
	if len(m.specs) <= 4*(m.svc.cfg.Protocol.ActiveSize+m.svc.cfg.Protocol.PassiveSize) {
		return
	}
	keep := map[string]bool{}
	for _, n := range m.core.Active() {
		keep[n] = true
	}
	for _, n := range m.core.Passive() {
		keep[n] = true
	}
	for _, n := range m.core.Pending() {
		keep[n] = true
	}
	for _, c := range m.contacts {
		keep[c.Name] = true
	}
	for n := range m.specs {
		if !keep[n] {
			delete(m.specs, n)
		}
	}
}

func (m *server) members() []remote.NodeSpec {
	out := []remote.NodeSpec{m.self}
	for _, n := range m.core.Active() {
		if spec, ok := m.specs[n]; ok {
			out = append(out, spec)
		} else {
			out = append(out, remote.NodeSpec{Name: n})
		}
	}
	slices.SortFunc(out, func(a, b remote.NodeSpec) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// state is the members as a peerservice.State of one actor, this node.
func (m *server) state() peerservice.State {
	var st peerservice.State
	members := m.members()
	for i, spec := range members {
		st.Adds = append(st.Adds, peerservice.Entry{Dot: peerservice.Dot{Actor: m.self.Name, Counter: uint64(i + 1)}, Spec: spec})
	}
	st.Clock = []peerservice.Dot{{Actor: m.self.Name, Counter: uint64(len(members))}}
	return st
}

// onPartition takes an injection or resolution: it floods over the active
// view once per reference (an injection for TTL hops), and the nodes an
// injection reaches cut application traffic to the origin and tell the
// origin, which cuts its traffic to them.
func (m *server) onPartition(p *actor.Process, w wireMsg) {
	key := w.Ref
	if w.Resolve {
		key += "/resolve"
	}
	if slices.Contains(m.seenParts, key) {
		return
	}
	m.seenParts = append(m.seenParts, key)
	if len(m.seenParts) > 1024 {
		m.seenParts = m.seenParts[len(m.seenParts)-1024:]
	}
	fwd := w
	if w.Resolve {
		m.partitions = slices.DeleteFunc(m.partitions, func(pt peerservice.Partition) bool { return pt.Ref == w.Ref })
		m.svc.policy.removeRef(w.Ref)
	} else {
		m.partitions = append(m.partitions, peerservice.Partition{Ref: w.Ref, Origin: w.Origin})
		if w.Origin != m.self.Name {
			m.svc.policy.addCut(w.Origin, w.Ref)
			m.send(p, w.Origin, wireMsg{Kind: kindHolds, Ref: w.Ref})
		}
		fwd.TTL--
		if fwd.TTL < 0 {
			return
		}
	}
	for _, peer := range m.core.Active() {
		if peer != w.From {
			m.send(p, peer, fwd)
		}
	}
}

func sorted(xs []string) []string {
	slices.Sort(xs)
	return xs
}

func jitter(seed uint64, span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	return time.Duration(rand.New(rand.NewPCG(seed, 7)).Int64N(int64(span)))
}
