package hyparview

import (
	"errors"
	"math/rand/v2"
	"slices"
)

// Send is a message for the node To.
type Send[N comparable] struct {
	To  N
	Msg Message
}

// Change is a change of the active view: Peer joined it (Up) or left it.
type Change[N comparable] struct {
	Peer N
	Up   bool
}

// Effects is what the owner of a Core must do after a call: send the
// messages (a send to a node that turns out to be unreachable is reported
// back with PeerDown) and follow the changes of the active view (open and
// watch a connection to each peer that came up, close it to each that went
// down). Both lists are in the order the core produced them.
type Effects[N comparable] struct {
	Sends   []Send[N]
	Changes []Change[N]
}

func (e *Effects[N]) send(to N, m Message) { e.Sends = append(e.Sends, Send[N]{To: to, Msg: m}) }

// Empty reports whether there is nothing to do.
func (e Effects[N]) Empty() bool { return len(e.Sends) == 0 && len(e.Changes) == 0 }

// pending is an outstanding NEIGHBOR request.
type pending[N comparable] struct {
	peer  N
	ticks int
}

// Core is the HyParView protocol of one node: its active and passive views
// and the messages that keep them. It has no goroutines, clocks or I/O; its
// owner feeds it messages, failures and ticks, and carries out the effects
// it returns. Random choices come from the rand.Rand given to NewCore, so a
// seeded owner replays exactly. A Core is not safe for concurrent use.
type Core[N comparable] struct {
	cfg  Config
	self N
	rng  *rand.Rand

	active  []N
	passive []N
	pending []pending[N]
	// tried holds the passive peers that refused a NEIGHBOR request since
	// the last Tick, so that the repair does not ask them again at once.
	tried []N
	// lastShuffle is the sample this node sent in its last SHUFFLE; its
	// entries are the first to leave a full passive view for the answer.
	lastShuffle []N
}

// ErrSelf is returned by NewCore for an empty node name.
var ErrSelf = errors.New("hyparview: empty node name")

// NewCore returns the core of node self. rng must not be nil.
func NewCore[N comparable](self N, cfg Config, rng *rand.Rand) (*Core[N], error) {
	if isZero(self) {
		return nil, ErrSelf
	}
	if rng == nil {
		return nil, errors.New("hyparview: nil rand")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Core[N]{cfg: cfg, self: self, rng: rng}, nil
}

// Self returns the node's name.
func (c *Core[N]) Self() N { return c.self }

// Config returns the configuration with defaults filled in.
func (c *Core[N]) Config() Config { return c.cfg }

// Active returns a copy of the active view, in the order peers entered it.
func (c *Core[N]) Active() []N { return slices.Clone(c.active) }

// Passive returns a copy of the passive view.
func (c *Core[N]) Passive() []N { return slices.Clone(c.passive) }

// IsActive reports whether peer is in the active view.
func (c *Core[N]) IsActive(peer N) bool { return slices.Contains(c.active, peer) }

// Join starts joining the overlay through contact: the contact takes this
// node into its active view and answers with JoinAccept, and spreads the
// join with FORWARDJOIN walks.
func (c *Core[N]) Join(contact N) Effects[N] {
	var eff Effects[N]
	if isZero(contact) || contact == c.self {
		return eff
	}
	eff.send(contact, Join{})
	return eff
}

// Handle handles a message from another node.
func (c *Core[N]) Handle(from N, m Message) Effects[N] {
	var eff Effects[N]
	if isZero(from) || from == c.self {
		return eff
	}
	switch m := m.(type) {
	case Join:
		c.onJoin(&eff, from)
	case JoinAccept:
		c.addActive(&eff, from)
	case ForwardJoin[N]:
		c.onForwardJoin(&eff, from, m)
	case Neighbor:
		c.onNeighbor(&eff, from, m)
	case NeighborReply:
		c.onNeighborReply(&eff, from, m)
	case Disconnect:
		if c.removeActive(&eff, from) {
			c.addPassive(from, nil)
			// The peer that dropped us is full; do not ask it back at once.
			c.tried = append(c.tried, from)
			// Refill at once: left for the next tick, the places that joins
			// take from older nodes add up and cut the overlay apart.
			c.repair(&eff)
		}
	case Shuffle[N]:
		c.onShuffle(&eff, from, m)
	case ShuffleReply[N]:
		c.integrate(m.Nodes, c.lastShuffle)
	}
	return eff
}

// PeerDown tells the core that peer is unreachable: its connection broke or
// a send to it failed. It leaves both views, and the core asks a passive
// peer to take its place in the active view.
func (c *Core[N]) PeerDown(peer N) Effects[N] {
	var eff Effects[N]
	wasActive := c.removeActive(&eff, peer)
	wasPending := c.dropPending(peer)
	c.passive = remove(c.passive, peer)
	if wasActive || wasPending {
		c.repair(&eff)
	}
	return eff
}

// Tick is the periodic work apart from shuffling: NEIGHBOR requests left
// unanswered for Config.PendingTicks ticks count as failed, and an active
// view below its size asks passive peers to fill it (the random promotion of
// Partisan's manager; the papers fill the view only on failures).
func (c *Core[N]) Tick() Effects[N] {
	var eff Effects[N]
	c.tried = c.tried[:0]
	var expired []N
	kept := c.pending[:0]
	for _, p := range c.pending {
		p.ticks++
		if p.ticks >= c.cfg.PendingTicks {
			expired = append(expired, p.peer)
			continue
		}
		kept = append(kept, p)
	}
	c.pending = kept
	for _, peer := range expired {
		c.passive = remove(c.passive, peer)
	}
	c.repair(&eff)
	return eff
}

// Shuffle starts a SHUFFLE: a sample of this node, ShuffleActive active and
// ShufflePassive passive peers walks the overlay from a random active peer,
// and the node where it stops answers with a sample of its passive view.
func (c *Core[N]) Shuffle() Effects[N] {
	var eff Effects[N]
	if len(c.active) == 0 {
		return eff
	}
	to := c.active[c.rng.IntN(len(c.active))]
	nodes := []N{c.self}
	nodes = append(nodes, c.sample(c.active, c.cfg.ShuffleActive, to)...)
	nodes = append(nodes, c.sample(c.passive, c.cfg.ShufflePassive)...)
	c.lastShuffle = nodes
	eff.send(to, Shuffle[N]{Origin: c.self, TTL: c.cfg.ShuffleWalkLength, Nodes: slices.Clone(nodes)})
	return eff
}

func (c *Core[N]) onJoin(eff *Effects[N], from N) {
	c.addActive(eff, from)
	eff.send(from, JoinAccept{})
	for _, peer := range c.active {
		if peer != from {
			eff.send(peer, ForwardJoin[N]{New: from, TTL: c.cfg.ActiveRandomWalkLength})
		}
	}
}

// checkLink answers a message that only an active peer sends (a
// FORWARDJOIN or SHUFFLE step) from a peer not in the active view with
// DISCONNECT: the sender holds a link this node does not, after messages
// crossed, and drops it.
func (c *Core[N]) checkLink(eff *Effects[N], from N) {
	if !c.IsActive(from) {
		eff.send(from, Disconnect{})
	}
}

func (c *Core[N]) onForwardJoin(eff *Effects[N], from N, m ForwardJoin[N]) {
	c.checkLink(eff, from)
	if isZero(m.New) || m.New == c.self {
		return
	}
	if m.TTL <= 0 || len(c.active) <= 1 {
		c.accept(eff, m.New)
		return
	}
	if m.TTL == c.cfg.PassiveRandomWalkLength {
		c.addPassive(m.New, nil)
	}
	next, ok := c.pick(c.active, from, m.New)
	if !ok {
		c.accept(eff, m.New)
		return
	}
	eff.send(next, ForwardJoin[N]{New: m.New, TTL: m.TTL - 1})
}

// accept ends a FORWARDJOIN walk here: the joining node enters the active
// view and is told so.
func (c *Core[N]) accept(eff *Effects[N], peer N) {
	if c.IsActive(peer) {
		return
	}
	c.addActive(eff, peer)
	eff.send(peer, JoinAccept{})
}

func (c *Core[N]) onNeighbor(eff *Effects[N], from N, m Neighbor) {
	if c.IsActive(from) {
		eff.send(from, NeighborReply{Accepted: true})
		return
	}
	if m.Priority == High || len(c.active) < c.cfg.ActiveSize {
		c.addActive(eff, from)
		eff.send(from, NeighborReply{Accepted: true})
		return
	}
	eff.send(from, NeighborReply{Accepted: false})
}

func (c *Core[N]) onNeighborReply(eff *Effects[N], from N, m NeighborReply) {
	wasPending := c.dropPending(from)
	if m.Accepted {
		if !c.IsActive(from) {
			c.addActive(eff, from)
		}
		return
	}
	if !wasPending {
		return
	}
	if !slices.Contains(c.tried, from) {
		c.tried = append(c.tried, from)
	}
	c.repair(eff)
}

func (c *Core[N]) onShuffle(eff *Effects[N], from N, m Shuffle[N]) {
	c.checkLink(eff, from)
	if isZero(m.Origin) || m.Origin == c.self {
		return
	}
	if ttl := m.TTL - 1; ttl > 0 && len(c.active) > 1 {
		if next, ok := c.pick(c.active, from, m.Origin); ok {
			eff.send(next, Shuffle[N]{Origin: m.Origin, TTL: ttl, Nodes: m.Nodes})
			return
		}
	}
	reply := c.sample(c.passive, len(m.Nodes), m.Origin)
	eff.send(m.Origin, ShuffleReply[N]{Nodes: reply})
	c.integrate(m.Nodes, reply)
}

// repair asks passive peers to fill the free places of the active view, one
// request per place, skipping peers asked already or refused since the last
// tick.
func (c *Core[N]) repair(eff *Effects[N]) {
	for len(c.active)+len(c.pending) < c.cfg.ActiveSize {
		var candidates []N
		for _, p := range c.passive {
			if !c.isPending(p) && !slices.Contains(c.tried, p) {
				candidates = append(candidates, p)
			}
		}
		if len(candidates) == 0 {
			return
		}
		peer := candidates[c.rng.IntN(len(candidates))]
		prio := Low
		if len(c.active) == 0 {
			prio = High
		}
		c.pending = append(c.pending, pending[N]{peer: peer})
		eff.send(peer, Neighbor{Priority: prio})
	}
}

// addActive puts peer into the active view, dropping a random peer (told
// with DISCONNECT, kept as passive) if the view is full.
func (c *Core[N]) addActive(eff *Effects[N], peer N) {
	if peer == c.self || c.IsActive(peer) {
		return
	}
	if len(c.active) >= c.cfg.ActiveSize {
		victim := c.active[c.rng.IntN(len(c.active))]
		c.removeActive(eff, victim)
		eff.send(victim, Disconnect{})
		c.addPassive(victim, nil)
	}
	c.passive = remove(c.passive, peer)
	c.dropPending(peer)
	c.active = append(c.active, peer)
	eff.Changes = append(eff.Changes, Change[N]{Peer: peer, Up: true})
}

func (c *Core[N]) removeActive(eff *Effects[N], peer N) bool {
	i := slices.Index(c.active, peer)
	if i < 0 {
		return false
	}
	c.active = slices.Delete(c.active, i, i+1)
	eff.Changes = append(eff.Changes, Change[N]{Peer: peer, Up: false})
	return true
}

// addPassive puts peer into the passive view unless it is this node or
// already known. A full view first drops one of prefer (the entries this
// node just handed to a shuffle partner), else a random entry.
func (c *Core[N]) addPassive(peer N, prefer []N) {
	if isZero(peer) || peer == c.self || c.IsActive(peer) || slices.Contains(c.passive, peer) {
		return
	}
	if c.cfg.PassiveSize == 0 {
		return
	}
	if len(c.passive) >= c.cfg.PassiveSize {
		victim := -1
		for _, p := range prefer {
			if i := slices.Index(c.passive, p); i >= 0 {
				victim = i
				break
			}
		}
		if victim < 0 {
			victim = c.rng.IntN(len(c.passive))
		}
		c.passive = slices.Delete(c.passive, victim, victim+1)
	}
	c.passive = append(c.passive, peer)
}

func (c *Core[N]) integrate(nodes, prefer []N) {
	for _, n := range nodes {
		c.addPassive(n, prefer)
	}
}

func (c *Core[N]) isPending(peer N) bool {
	for _, p := range c.pending {
		if p.peer == peer {
			return true
		}
	}
	return false
}

func (c *Core[N]) dropPending(peer N) bool {
	for i, p := range c.pending {
		if p.peer == peer {
			c.pending = slices.Delete(c.pending, i, i+1)
			return true
		}
	}
	return false
}

// pick returns a random element of view other than the excluded ones.
func (c *Core[N]) pick(view []N, exclude ...N) (N, bool) {
	n := 0
	for _, v := range view {
		if !slices.Contains(exclude, v) {
			n++
		}
	}
	if n == 0 {
		var zero N
		return zero, false
	}
	k := c.rng.IntN(n)
	for _, v := range view {
		if slices.Contains(exclude, v) {
			continue
		}
		if k == 0 {
			return v, true
		}
		k--
	}
	var zero N
	return zero, false
}

// sample returns up to k random distinct elements of view other than the
// excluded ones.
func (c *Core[N]) sample(view []N, k int, exclude ...N) []N {
	var pool []N
	for _, v := range view {
		if !slices.Contains(exclude, v) {
			pool = append(pool, v)
		}
	}
	if k > len(pool) {
		k = len(pool)
	}
	for i := 0; i < k; i++ {
		j := i + c.rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:k]
}

func remove[N comparable](view []N, peer N) []N {
	if i := slices.Index(view, peer); i >= 0 {
		return slices.Delete(view, i, i+1)
	}
	return view
}

func isZero[N comparable](v N) bool {
	var zero N
	return v == zero
}

// Pending returns the peers asked with NEIGHBOR and not yet answered.
func (c *Core[N]) Pending() []N {
	out := make([]N, len(c.pending))
	for i, p := range c.pending {
		out[i] = p.peer
	}
	return out
}

// IsPending reports whether a NEIGHBOR request to peer is unanswered.
func (c *Core[N]) IsPending(peer N) bool { return c.isPending(peer) }

// Leave takes this node out of the overlay: every active peer is told with
// DISCONNECT, and both views are emptied.
func (c *Core[N]) Leave() Effects[N] {
	var eff Effects[N]
	for _, p := range slices.Clone(c.active) {
		c.removeActive(&eff, p)
		eff.send(p, Disconnect{})
	}
	c.passive, c.pending, c.tried, c.lastShuffle = nil, nil, nil, nil
	return eff
}
