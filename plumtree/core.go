package plumtree

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"
)

// Core is the Plumtree protocol of one node, without goroutines, clocks,
// I/O or user code: the broadcast server (or a simulator driving thousands of
// cores) feeds it messages, ticks and handler answers with the time, and
// carries out the Effects it returns, in order. Equal inputs give equal
// outputs: no map is ranged over to emit effects, and every random choice
// comes from a generator seeded by CoreConfig.Seed and the node's name.
//
// The core never calls a handler. Where the protocol needs one it takes the
// answer as input (see Verdict): before Handle, the caller asks the handler
// named by the message (Merge for a Broadcast, IsStale for an IHave, Graft
// for a Graft) and passes the answer in. Exchanges are asked for with
// EffectStartExchange and their end reported with ExchangeEnded; graft
// timers, when CoreConfig.GraftTimeout asks for them, with
// EffectArmGraftTimer and GraftTimeout.
//
// The methods, for a driver:
//
//	NewCore(self, cfg, members)           a node; members is the whole cluster as it knows it
//	Broadcast(handler, id, payload, now)   a broadcast rooted here (after handler.BroadcastData)
//	Handle(from, msg, verdict, now)        a protocol message from node from
//	LazyTick(now)                          every lazy tick: IHaves for every unacknowledged lazy push
//	ExchangeTick(now)                      every exchange tick: maybe start an exchange
//	GraftTimeout(handler, id, timer, now)  an armed graft timer fired
//	ExchangeEnded(id)                      an exchange failed, was ignored or finished
//	Update(members, now)                   the membership changed
//	Peers(root), Members(), Exchanges(), Outstanding(peer)   read-only views
//
// A Core is not safe for concurrent use.
type Core struct {
	self string
	cfg  CoreConfig
	rng  *rand.Rand

	members      []string // sorted, self included
	commonEagers []string // sorted, the peers of every tree not yet adjusted
	commonLazys  []string
	eagerSets    map[string][]string // per root, once the tree changed
	lazySets     map[string][]string

	outstanding map[string]*outQueue // per lazy peer

	handlers  []string // round-robin order for exchanges
	exchanges []Exchange
	nextExch  uint64

	missing   map[msgKey]*missingMsg // announced, not yet received (graft timers)
	nextTimer uint64

	received      map[msgKey]receipt // for the optimization step
	receivedOrder []msgKey
}

// ExchangeSelection says how the exchange tick picks the peer to exchange
// with.
type ExchangeSelection uint8

const (
	// ExchangeOptimized (the default, as Partisan's): a member that is in
	// neither the eager nor the lazy set of a random root's tree, the peers
	// most likely to lag behind; any other member when there is none.
	ExchangeOptimized ExchangeSelection = iota
	// ExchangeNormal: any other member, at random.
	ExchangeNormal
)

// LazyMode says when lazy pushes (IHave) are first sent.
type LazyMode uint8

const (
	// LazyPerTick (the default, as Partisan's and riak_core's): lazy pushes
	// wait for the next lazy tick, so a tick carries every IHave of the
	// period at once.
	LazyPerTick LazyMode = iota
	// LazyImmediate: an IHave goes out at once, as in the paper's
	// Algorithm 1, and again each lazy tick until acknowledged.
	LazyImmediate
)

// CoreConfig configures a Core. The zero value works: Partisan's behaviour
// with the riak_core initial peers.
type CoreConfig struct {
	// Handlers names the handlers that take part in anti-entropy exchanges,
	// tried in round-robin order. Broadcasts may name any handler.
	Handlers []string
	// Eagers and Lazys are the initial peers shared by every tree (the
	// seed's start_link/5). When both are nil, InitPeers picks them.
	Eagers, Lazys []string
	// ExchangeSelection picks exchange peers (default ExchangeOptimized).
	ExchangeSelection ExchangeSelection
	// StartExchangeLimit bounds the exchanges this node runs at once.
	// Default 1.
	StartExchangeLimit int
	// LazyMode says when IHaves go out (default LazyPerTick).
	LazyMode LazyMode
	// GraftTimeout, when positive, delays the graft of a missing message
	// (the paper's timeout1): an IHave for a message not yet received arms a
	// timer instead of grafting at once; when it fires and the message is
	// still missing, the first announcer is grafted and a timer of
	// GraftRetryTimeout is armed for the next. Zero grafts at once (Partisan).
	GraftTimeout time.Duration
	// GraftRetryTimeout is the paper's timeout2. Default GraftTimeout / 2.
	GraftRetryTimeout time.Duration
	// OptimizationThreshold, when positive, turns on the paper's
	// optimization step: an IHave whose round is at least this many hops
	// below the round the message arrived with swaps the links (the
	// announcer becomes eager, the eager sender lazy). The paper uses 3
	// with one sender and 7 with many. Zero: off.
	OptimizationThreshold int
	// ReceivedMemory bounds the received messages remembered for the
	// optimization step. Default 4096.
	ReceivedMemory int
	// Seed seeds the random choices (the initial lazy peer, exchange roots
	// and peers), mixed with the node's name.
	Seed uint64
}

// ErrInvalidConfig is returned for a configuration that cannot work.
var ErrInvalidConfig = errors.New("plumtree: invalid configuration")

func (c CoreConfig) withDefaults() CoreConfig {
	if c.StartExchangeLimit == 0 {
		c.StartExchangeLimit = 1
	}
	if c.GraftRetryTimeout == 0 {
		c.GraftRetryTimeout = c.GraftTimeout / 2
	}
	if c.ReceivedMemory == 0 {
		c.ReceivedMemory = 4096
	}
	return c
}

func (c CoreConfig) validate() error {
	switch {
	case c.StartExchangeLimit < 0:
		return fmt.Errorf("%w: StartExchangeLimit %d", ErrInvalidConfig, c.StartExchangeLimit)
	case c.GraftTimeout < 0 || c.GraftRetryTimeout < 0:
		return fmt.Errorf("%w: negative graft timeout", ErrInvalidConfig)
	case c.GraftTimeout > 0 && c.GraftRetryTimeout == 0:
		return fmt.Errorf("%w: GraftTimeout %v too small for a retry timeout", ErrInvalidConfig, c.GraftTimeout)
	case c.OptimizationThreshold < 0 || c.ReceivedMemory < 0:
		return fmt.Errorf("%w: negative optimization setting", ErrInvalidConfig)
	case c.ExchangeSelection > ExchangeNormal:
		return fmt.Errorf("%w: ExchangeSelection %d", ErrInvalidConfig, c.ExchangeSelection)
	case c.LazyMode > LazyImmediate:
		return fmt.Errorf("%w: LazyMode %d", ErrInvalidConfig, c.LazyMode)
	}
	return nil
}

// Exchange is an anti-entropy exchange the core counts as running.
type Exchange struct {
	ID      uint64
	Handler string
	Peer    string
}

// msgKey names a message: its handler and id.
type msgKey struct {
	handler string
	id      any
}

// outKey is one outstanding lazy push.
type outKey struct {
	handler string
	id      any
	round   int
	root    string
}

// outQueue holds the outstanding lazy pushes to one peer in the order they
// were made.
type outQueue struct {
	order []outKey
	live  map[outKey]bool
}

type announcement struct {
	from  string
	round int
	root  string
}

type missingMsg struct {
	announcers []announcement
	timer      uint64 // the armed timer; 0: none
}

type receipt struct {
	round int
	from  string
	root  string
}

// NewCore returns the core of node self in a cluster of members (self is
// added if missing).
func NewCore(self string, cfg CoreConfig, members []string) (*Core, error) {
	if self == "" {
		return nil, fmt.Errorf("%w: empty node name", ErrInvalidConfig)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte(self))
	c := &Core{
		self:        self,
		cfg:         cfg,
		rng:         rand.New(rand.NewPCG(cfg.Seed, h.Sum64())),
		eagerSets:   map[string][]string{},
		lazySets:    map[string][]string{},
		outstanding: map[string]*outQueue{},
		handlers:    sortedSet(slices.Clone(cfg.Handlers)),
		missing:     map[msgKey]*missingMsg{},
		received:    map[msgKey]receipt{},
	}
	all := sortedSet(append(slices.Clone(members), self))
	eagers, lazys := cfg.Eagers, cfg.Lazys
	if eagers == nil && lazys == nil {
		eagers, lazys = InitPeers(self, all, c.rng)
	}
	c.resetPeers(all, sortedSet(slices.Clone(eagers)), sortedSet(slices.Clone(lazys)))
	return c, nil
}

// Self returns the node's name.
func (c *Core) Self() string { return c.self }

// Members returns the membership the core knows, sorted, self included.
func (c *Core) Members() []string { return slices.Clone(c.members) }

// Peers returns the eager and lazy peers of the tree rooted at root.
func (c *Core) Peers(root string) (eagers, lazys []string) {
	return slices.Clone(c.allEagers(root)), slices.Clone(c.allLazys(root))
}

// Exchanges returns the exchanges the core counts as running, oldest first.
func (c *Core) Exchanges() []Exchange { return slices.Clone(c.exchanges) }

// Outstanding returns the unacknowledged lazy pushes to peer, in the order
// they were made, as the IHaves the next lazy tick sends.
func (c *Core) Outstanding(peer string) []IHave {
	q := c.outstanding[peer]
	if q == nil {
		return nil
	}
	var out []IHave
	for _, k := range q.order {
		if q.live[k] {
			out = append(out, IHave{ID: k.id, Handler: k.handler, Round: k.round, Root: k.root})
		}
	}
	return out
}

// ValidID reports whether id can identify a message: it must be a
// comparable value (a string, a number, a struct of such).
func ValidID(id any) bool {
	return id != nil && reflect.TypeOf(id).Comparable()
}

// Broadcast starts a broadcast rooted at this node: the payload goes to the
// eager peers of this node's tree (round 0), and lazy pushes are scheduled
// for its lazy peers. The caller has already stored the message (the
// handler's BroadcastData); the core does not ask to merge it here.
func (c *Core) Broadcast(handler string, id, payload any, now time.Time) []Effect {
	if !ValidID(id) {
		return nil
	}
	c.remember(msgKey{handler, id}, receipt{round: 0, from: c.self, root: c.self})
	var out []Effect
	out = c.eagerPush(out, handler, id, payload, 0, c.self, c.self)
	return c.scheduleLazy(out, handler, id, 0, c.self, c.self)
}

// Handle takes a protocol message from node from, with the handler's answer
// where the message needs one (see Verdict).
func (c *Core) Handle(from string, msg Message, v Verdict, now time.Time) []Effect {
	if from == "" || from == c.self {
		return nil
	}
	switch m := msg.(type) {
	case *Broadcast:
		if !ValidID(m.ID) {
			return nil
		}
		return c.handleBroadcast(from, m, v.Fresh)
	case *Prune:
		c.addLazy(from, m.Root)
		return nil
	case *IHave:
		if !ValidID(m.ID) {
			return nil
		}
		return c.handleIHave(from, m, v.Stale)
	case *IgnoredIHave:
		if ValidID(m.ID) {
			c.ack(from, outKey{m.Handler, m.ID, m.Round, m.Root})
		}
		return nil
	case *Graft:
		if !ValidID(m.ID) {
			return nil
		}
		return c.handleGraft(from, m, v.Graft)
	}
	return nil
}

func (c *Core) handleBroadcast(from string, m *Broadcast, fresh bool) []Effect {
	if !fresh {
		// A duplicate: the link from the sender is redundant for this tree.
		c.addLazy(from, m.Root)
		return []Effect{{Kind: EffectSend, To: from, Msg: &Prune{Root: m.Root, Handler: m.Handler}}}
	}
	key := msgKey{m.Handler, m.ID}
	delete(c.missing, key)
	c.remember(key, receipt{round: m.Round, from: from, root: m.Root})
	var out []Effect
	if containsSorted(c.allLazys(m.Root), from) {
		// The sender pushed this before our Prune (or its own) reached it:
		// the prune crossed the payload, and the sender now holds this node
		// lazy while this node takes the sender eager again. Tell it, or
		// two crossed prunes under concurrent broadcasts leave this node
		// with no eager link into the tree at all.
		out = append(out, Effect{Kind: EffectSend, To: from, Msg: &Graft{ID: m.ID, Handler: m.Handler, Round: m.Round, Root: m.Root, Optimize: true}})
	}
	c.addEager(from, m.Root)
	out = c.eagerPush(out, m.Handler, m.ID, m.Payload, m.Round+1, m.Root, from)
	return c.scheduleLazy(out, m.Handler, m.ID, m.Round+1, m.Root, from)
}

func (c *Core) handleIHave(from string, m *IHave, stale bool) []Effect {
	key := msgKey{m.Handler, m.ID}
	if stale {
		out := []Effect{{Kind: EffectSend, To: from, Msg: &IgnoredIHave{ID: m.ID, Handler: m.Handler, Round: m.Round, Root: m.Root}}}
		return c.maybeOptimize(out, from, m, key)
	}
	if c.cfg.GraftTimeout <= 0 {
		c.addEager(from, m.Root)
		return []Effect{{Kind: EffectSend, To: from, Msg: &Graft{ID: m.ID, Handler: m.Handler, Round: m.Round, Root: m.Root}}}
	}
	mm := c.missing[key]
	if mm == nil {
		mm = &missingMsg{}
		c.missing[key] = mm
	}
	for _, a := range mm.announcers {
		if a.from == from {
			// A re-sent IHave (the lazy tick repeats until acknowledged).
			return c.armIfIdle(nil, key, mm, c.cfg.GraftTimeout)
		}
	}
	mm.announcers = append(mm.announcers, announcement{from: from, round: m.Round, root: m.Root})
	return c.armIfIdle(nil, key, mm, c.cfg.GraftTimeout)
}

func (c *Core) armIfIdle(out []Effect, key msgKey, mm *missingMsg, after time.Duration) []Effect {
	if mm.timer != 0 {
		return out
	}
	c.nextTimer++
	mm.timer = c.nextTimer
	return append(out, Effect{Kind: EffectArmGraftTimer, Handler: key.handler, ID: key.id, After: after, Timer: mm.timer})
}

// GraftTimeout takes the firing of a graft timer armed by
// EffectArmGraftTimer. If the message is still missing, the first announcer
// not yet asked is grafted, and while other announcers remain a
// GraftRetryTimeout timer is armed for the next. The message's arrival by any
// path (an eager push, a graft's answer) cancels its timers and forgets its
// announcements, so a late timer never grafts a message already here.
func (c *Core) GraftTimeout(handler string, id any, timer uint64, now time.Time) []Effect {
	if !ValidID(id) {
		return nil
	}
	key := msgKey{handler, id}
	mm := c.missing[key]
	if mm == nil || mm.timer != timer {
		return nil
	}
	mm.timer = 0
	if len(mm.announcers) == 0 {
		delete(c.missing, key)
		return nil
	}
	a := mm.announcers[0]
	mm.announcers = mm.announcers[1:]
	c.addEager(a.from, a.root)
	out := []Effect{{Kind: EffectSend, To: a.from, Msg: &Graft{ID: id, Handler: handler, Round: a.round, Root: a.root}}}
	// The timer stays armed after the last announcer too: if that graft's
	// answer is lost, the entry is dropped when it fires and the next
	// announcement (IHaves repeat until acknowledged) starts over.
	return c.armIfIdle(out, key, mm, c.cfg.GraftRetryTimeout)
}

// maybeOptimize is the paper's optimization step: an IHave that arrives
// along a path much shorter than the eager path the message took makes the
// announcer's link eager and the eager sender's lazy.
func (c *Core) maybeOptimize(out []Effect, from string, m *IHave, key msgKey) []Effect {
	if c.cfg.OptimizationThreshold <= 0 {
		return out
	}
	r, ok := c.received[key]
	if !ok || r.from == from || r.from == c.self || r.root != m.Root {
		return out
	}
	if r.round-m.Round < c.cfg.OptimizationThreshold {
		return out
	}
	c.addEager(from, m.Root)
	c.addLazy(r.from, m.Root)
	c.received[key] = receipt{round: m.Round, from: from, root: m.Root}
	return append(out,
		Effect{Kind: EffectSend, To: from, Msg: &Graft{ID: m.ID, Handler: m.Handler, Round: m.Round, Root: m.Root, Optimize: true}},
		Effect{Kind: EffectSend, To: r.from, Msg: &Prune{Root: m.Root, Handler: m.Handler}},
	)
}

func (c *Core) handleGraft(from string, m *Graft, res GraftResult) []Effect {
	key := outKey{m.Handler, m.ID, m.Round, m.Root}
	if m.Optimize {
		c.addEager(from, m.Root)
		c.ack(from, key)
		return nil
	}
	switch res.Status {
	case GraftOK:
		// Not acknowledged here: the payload may be lost on the way, so
		// the IHave goes once more and its IgnoredIHave is the ack.
		c.addEager(from, m.Root)
		return []Effect{{Kind: EffectSend, To: from, Msg: &Broadcast{ID: m.ID, Payload: res.Payload, Handler: m.Handler, Round: m.Round, Root: m.Root}}}
	case GraftStale:
		// A newer message superseded it; its own lazy push stands in.
		c.ack(from, key)
	}
	return nil
}

// LazyTick sends an IHave for every outstanding lazy push, peers in name
// order and each peer's pushes in the order they were made. They stay
// outstanding until acknowledged (IgnoredIHave, or a graft of a stale
// message).
func (c *Core) LazyTick(now time.Time) []Effect {
	peers := make([]string, 0, len(c.outstanding))
	for p := range c.outstanding {
		peers = append(peers, p)
	}
	slices.Sort(peers)
	var out []Effect
	for _, p := range peers {
		q := c.outstanding[p]
		live := q.order[:0]
		for _, k := range q.order {
			if q.live[k] {
				live = append(live, k)
				out = append(out, Effect{Kind: EffectSend, To: p, Msg: &IHave{ID: k.id, Handler: k.handler, Round: k.round, Root: k.root}})
			}
		}
		clear(q.order[len(live):])
		q.order = live
		if len(live) == 0 {
			delete(c.outstanding, p)
		}
	}
	return out
}

// ExchangeTick maybe starts one anti-entropy exchange: below
// StartExchangeLimit running exchanges, it picks a random root, a peer by
// ExchangeSelection, and the next handler in round-robin order that has no
// exchange running.
func (c *Core) ExchangeTick(now time.Time) []Effect {
	if len(c.handlers) == 0 || len(c.exchanges) >= c.cfg.StartExchangeLimit {
		return nil
	}
	others := removeSorted(c.members, c.self)
	if len(others) == 0 {
		return nil
	}
	root := others[c.rng.IntN(len(others))]
	candidates := others
	if c.cfg.ExchangeSelection == ExchangeOptimized {
		inTree := unionSorted(c.allEagers(root), c.allLazys(root))
		if rest := subtractSorted(others, inTree); len(rest) > 0 {
			candidates = rest
		}
	}
	peer := candidates[c.rng.IntN(len(candidates))]
	for range c.handlers {
		h := c.handlers[0]
		c.handlers = append(c.handlers[1:], h)
		if slices.ContainsFunc(c.exchanges, func(e Exchange) bool { return e.Handler == h }) {
			continue
		}
		c.nextExch++
		c.exchanges = append(c.exchanges, Exchange{ID: c.nextExch, Handler: h, Peer: peer})
		return []Effect{{Kind: EffectStartExchange, Handler: h, Peer: peer, Exchange: c.nextExch}}
	}
	return nil
}

// ExchangeEnded stops counting exchange id as running: it failed, its
// handler ignored it, it finished, or it was cancelled.
func (c *Core) ExchangeEnded(id uint64) {
	c.exchanges = slices.DeleteFunc(c.exchanges, func(e Exchange) bool { return e.ID == id })
}

// Update takes the membership as it now is. New members join every tree as
// eager peers and every per-root tree is reset to the common sets (as the
// paper says: a new member is simply added to the eager set); removed
// members leave every set, and their outstanding lazy pushes, pending
// announcements and their share of the exchange peers are forgotten.
// It returns no effects today; the result is there so that a later
// rewiring rule may send without an API change.
func (c *Core) Update(members []string, now time.Time) []Effect {
	all := sortedSet(append(slices.Clone(members), c.self))
	added := subtractSorted(all, c.members)
	removed := subtractSorted(c.members, all)
	if len(added) > 0 {
		c.resetPeers(all, unionSorted(c.commonEagers, added), c.commonLazys)
	}
	if len(removed) > 0 {
		c.neighborsDown(removed)
	}
	return nil
}

func (c *Core) neighborsDown(removed []string) {
	c.members = subtractSorted(c.members, removed)
	c.commonEagers = subtractSorted(c.commonEagers, removed)
	c.commonLazys = subtractSorted(c.commonLazys, removed)
	for root, s := range c.eagerSets {
		c.eagerSets[root] = subtractSorted(s, removed)
	}
	for root, s := range c.lazySets {
		c.lazySets[root] = subtractSorted(s, removed)
	}
	for _, p := range removed {
		delete(c.outstanding, p)
	}
	for key, mm := range c.missing {
		mm.announcers = slices.DeleteFunc(mm.announcers, func(a announcement) bool { return containsSorted(removed, a.from) })
		if len(mm.announcers) == 0 && mm.timer == 0 {
			delete(c.missing, key)
		}
	}
}

func (c *Core) resetPeers(all, eagers, lazys []string) {
	c.members = all
	c.commonEagers = removeSorted(eagers, c.self)
	c.commonLazys = subtractSorted(removeSorted(lazys, c.self), c.commonEagers)
	clear(c.eagerSets)
	clear(c.lazySets)
}

func (c *Core) allEagers(root string) []string {
	if s, ok := c.eagerSets[root]; ok {
		return s
	}
	return c.commonEagers
}

func (c *Core) allLazys(root string) []string {
	if s, ok := c.lazySets[root]; ok {
		return s
	}
	return c.commonLazys
}

func (c *Core) addEager(peer, root string) {
	c.eagerSets[root] = addSorted(c.allEagers(root), peer)
	c.lazySets[root] = removeSorted(c.allLazys(root), peer)
}

func (c *Core) addLazy(peer, root string) {
	c.eagerSets[root] = removeSorted(c.allEagers(root), peer)
	c.lazySets[root] = addSorted(c.allLazys(root), peer)
}

func (c *Core) eagerPush(out []Effect, handler string, id, payload any, round int, root, from string) []Effect {
	for _, p := range c.allEagers(root) {
		if p == from || p == c.self {
			continue
		}
		out = append(out, Effect{Kind: EffectSend, To: p, Msg: &Broadcast{ID: id, Payload: payload, Handler: handler, Round: round, Root: root}})
	}
	return out
}

func (c *Core) scheduleLazy(out []Effect, handler string, id any, round int, root, from string) []Effect {
	for _, p := range c.allLazys(root) {
		if p == from || p == c.self {
			continue
		}
		k := outKey{handler, id, round, root}
		q := c.outstanding[p]
		if q == nil {
			q = &outQueue{live: map[outKey]bool{}}
			c.outstanding[p] = q
		}
		if !q.live[k] {
			q.live[k] = true
			q.order = append(q.order, k)
		}
		if c.cfg.LazyMode == LazyImmediate {
			out = append(out, Effect{Kind: EffectSend, To: p, Msg: &IHave{ID: id, Handler: handler, Round: round, Root: root}})
		}
	}
	return out
}

func (c *Core) ack(peer string, k outKey) {
	q := c.outstanding[peer]
	if q == nil {
		return
	}
	delete(q.live, k)
	if len(q.live) == 0 {
		delete(c.outstanding, peer)
	}
}

// remember records how a message arrived, for the optimization step.
func (c *Core) remember(key msgKey, r receipt) {
	if c.cfg.OptimizationThreshold <= 0 {
		return
	}
	if _, ok := c.received[key]; !ok {
		c.receivedOrder = append(c.receivedOrder, key)
	}
	c.received[key] = r
	for len(c.receivedOrder) > c.cfg.ReceivedMemory {
		delete(c.received, c.receivedOrder[0])
		c.receivedOrder = c.receivedOrder[1:]
	}
}
