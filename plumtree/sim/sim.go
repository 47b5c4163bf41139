package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gotp-dev/gotp/peerservice/hyparview"
	"github.com/gotp-dev/gotp/plumtree"
)

// Protocol is the broadcast protocol the nodes run over the HyParView
// overlay.
type Protocol int

const (
	// Eager is eager push gossip: a node that receives a message for the
	// first time forwards it to Fanout random active peers other than the
	// one it came from.
	Eager Protocol = iota
	// Flood forwards to every active peer but the sender: the dissemination
	// the HyParView paper measures ("HyParView alone").
	Flood
	// Plumtree runs plumtree.Core on every node, its members the node's
	// active view.
	Plumtree
)

func (p Protocol) String() string {
	switch p {
	case Eager:
		return "eager"
	case Flood:
		return "flood"
	case Plumtree:
		return "plumtree"
	}
	return fmt.Sprintf("protocol(%d)", int(p))
}

// Config describes one simulated network. The zero value is the papers'
// setting: 10,000 nodes, fanout 4, active view 5, passive view 30, eager
// gossip.
type Config struct {
	// Nodes is the number of nodes. Default 10,000.
	Nodes int
	// Seed seeds every random choice; equal configs give equal runs.
	Seed uint64
	// Protocol is the broadcast protocol. Default Eager.
	Protocol Protocol
	// Fanout is the eager gossip fanout. Default 4.
	Fanout int
	// HyParView sizes the views (default active 5, passive 30).
	HyParView hyparview.Config
	// DetectOnSend makes a failed node's peers notice the failure only when
	// they next send to it. By default its live active peers notice at once,
	// as TCP peers do when a crashed process's connections are reset; a
	// send to a failed node fails either way.
	DetectOnSend bool
	// Plumtree configures the Plumtree cores (Protocol Plumtree only). Its
	// Seed is replaced by one drawn from Seed.
	Plumtree plumtree.CoreConfig
	// Latency is how long a message takes from sender to receiver. The
	// zero value, UnitLatency, is one time unit for every message.
	Latency Latency
	// MaxLatency bounds the random latencies of MessageLatency and
	// LinkLatency: each is a whole number of time units in [1, MaxLatency].
	// Default 10.
	MaxLatency int
}

// Latency is a model of message latency.
type Latency int

const (
	// UnitLatency takes one time unit for every message: one FIFO queue,
	// so the first copy of a broadcast reaches each node along a shortest
	// path of the overlay.
	UnitLatency Latency = iota
	// MessageLatency draws each message's latency at random, uniform in
	// [1, MaxLatency], independently of every other message (PeerSim's
	// UniformRandomTransport): two messages on one link may overtake each
	// other.
	MessageLatency
	// LinkLatency gives each pair of nodes a fixed latency drawn at random,
	// uniform in [1, MaxLatency], the same both ways: messages on one link
	// keep their order, as on a TCP connection, and a fast path may have
	// more hops than a slow one.
	LinkLatency
)

func (l Latency) String() string {
	switch l {
	case UnitLatency:
		return "unit"
	case MessageLatency:
		return "message"
	case LinkLatency:
		return "link"
	}
	return fmt.Sprintf("latency(%d)", int(l))
}

func (c Config) withDefaults() Config {
	if c.Nodes == 0 {
		c.Nodes = 10_000
	}
	if c.Fanout == 0 {
		c.Fanout = 4
	}
	if c.MaxLatency == 0 {
		c.MaxLatency = 10
	}
	return c
}

func (c Config) validate() error {
	if c.Nodes < 2 {
		return fmt.Errorf("sim: %d nodes, need at least 2", c.Nodes)
	}
	if c.Fanout < 1 {
		return fmt.Errorf("sim: fanout %d < 1", c.Fanout)
	}
	if c.Protocol < Eager || c.Protocol > Plumtree {
		return fmt.Errorf("sim: unknown protocol %d", int(c.Protocol))
	}
	if c.Latency < UnitLatency || c.Latency > LinkLatency {
		return fmt.Errorf("sim: unknown latency model %d", int(c.Latency))
	}
	if c.MaxLatency < 1 {
		return fmt.Errorf("sim: max latency %d < 1", c.MaxLatency)
	}
	return nil
}

// handlerName names the one broadcast handler of the simulated Plumtree
// nodes.
const handlerName = "sim"

// eagerMsg is a payload of eager gossip and flooding.
type eagerMsg struct {
	id  int
	hop int
}

// envelope is a message in flight. Exactly one of hv, pt, eager is set.
type envelope struct {
	from, to int32
	hv       hyparview.Message
	pt       plumtree.Message
	eager    *eagerMsg
}

type node struct {
	name  string
	alive bool
	hv    *hyparview.Core[int32]
	pt    *plumtree.Core
}

// Delivery is what one broadcast reached.
type Delivery struct {
	// ID numbers the broadcast, from 0.
	ID int
	// Root is the index of the node that sent it.
	Root int
	// Alive is the number of live nodes when it was measured.
	Alive int
	// Delivered is the number of live nodes that have it (the root
	// included).
	Delivered int
	// Payloads is the number of payload messages live nodes received for
	// it, duplicates and graft answers included.
	Payloads int
	// LastHop is the largest hop count at which a node first received it
	// (LDH).
	LastHop int
}

// Reliability is the share of live nodes that delivered, in percent.
func (d Delivery) Reliability() float64 {
	if d.Alive == 0 {
		return 0
	}
	return 100 * float64(d.Delivered) / float64(d.Alive)
}

// RMR is the relative message redundancy m/(n-1) - 1, m the payload
// messages received and n the nodes reached; 0 when only the root has it.
func (d Delivery) RMR() float64 {
	if d.Delivered <= 1 {
		return 0
	}
	return float64(d.Payloads)/float64(d.Delivered-1) - 1
}

type bcast struct {
	Delivery
	have []bool
}

// Sim is a cycle-based simulation of a HyParView overlay and a broadcast
// protocol over it. Messages are delivered in the order they were sent (a
// FIFO queue, so each takes one time unit; see Config.Latency for random
// latencies), a send to a failed node fails at
// once and the sender's HyParView core is told (PeerDown), as TCP tells the
// paper's nodes. A Sim is not safe for concurrent use; separate Sims are
// independent.
type Sim struct {
	cfg   Config
	rng   *rand.Rand
	nodes []node
	index map[string]int32
	queue []envelope
	head  int
	// timed holds the messages in flight under a random latency model, a
	// heap ordered by arrival time and then by send order; clock is the
	// time of the last arrival.
	timed  timedQueue
	clock  int64
	sent   uint64
	latRng *rand.Rand
	cycle  int
	bcasts []*bcast
	alive  int
	// scratch
	changed []int32
}

// New builds a network of cfg.Nodes nodes: node i joins through a random
// node among 0..i-1, and each join settles before the next. Protocol
// Plumtree cores start once the overlay exists (see Stabilize).
func New(cfg Config) (*Sim, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		nodes: make([]node, cfg.Nodes),
		index: make(map[string]int32, cfg.Nodes),
		alive: cfg.Nodes,
		// Latencies come from a generator of their own, so the model does
		// not shift the overlay's or the protocols' random choices.
		latRng: rand.New(rand.NewPCG(cfg.Seed, 0x1a7e)),
	}
	width := len(fmt.Sprint(cfg.Nodes - 1))
	for i := range s.nodes {
		name := fmt.Sprintf("n%0*d", width, i)
		hv, err := hyparview.NewCore(peerID(i), cfg.HyParView, rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1)))
		if err != nil {
			return nil, err
		}
		s.nodes[i] = node{name: name, alive: true, hv: hv}
		s.index[name] = int32(i)
	}
	for i := 1; i < cfg.Nodes; i++ {
		s.applyHV(int32(i), s.nodes[i].hv.Join(peerID(s.rng.IntN(i))))
		s.drain()
	}
	if cfg.Protocol == Plumtree {
		pcfg := cfg.Plumtree
		pcfg.Seed = s.rng.Uint64()
		for i := range s.nodes {
			active := s.activeNames(i)
			pcfg.Eagers = append([]string{}, active...)
			pcfg.Lazys = []string{}
			pt, err := plumtree.NewCore(s.nodes[i].name, pcfg, active)
			if err != nil {
				return nil, err
			}
			s.nodes[i].pt = pt
		}
	}
	return s, nil
}

// Nodes returns the number of nodes, failed ones included.
func (s *Sim) Nodes() int { return len(s.nodes) }

// Alive returns the number of live nodes.
func (s *Sim) Alive() int { return s.alive }

// IsAlive reports whether node i is alive.
func (s *Sim) IsAlive(i int) bool { return s.nodes[i].alive }

// Cycle returns the number of membership cycles run.
func (s *Sim) Cycle() int { return s.cycle }

// Active returns the active view of node i, as node indexes.
func (s *Sim) Active(i int) []int {
	var out []int
	for _, p := range s.nodes[i].hv.Active() {
		out = append(out, int(p-1))
	}
	return out
}

// peerID is the HyParView identity of node i: its index plus one, since
// the core takes the zero value for no node.
func peerID(i int) int32 { return int32(i) + 1 }

// activeNames returns the names of node i's active peers, for its Plumtree
// core.
func (s *Sim) activeNames(i int) []string {
	act := s.nodes[i].hv.Active()
	out := make([]string, len(act))
	for k, p := range act {
		out[k] = s.nodes[p-1].name
	}
	return out
}

func (s *Sim) now() time.Time { return time.Unix(0, 0).Add(time.Duration(s.cycle) * time.Second) }

func (s *Sim) push(e envelope) {
	switch s.cfg.Latency {
	case UnitLatency:
		s.queue = append(s.queue, e)
		return
	case MessageLatency:
		s.timed.push(timedEnvelope{at: s.clock + 1 + s.latRng.Int64N(int64(s.cfg.MaxLatency)), seq: s.sent, envelope: e})
	case LinkLatency:
		s.timed.push(timedEnvelope{at: s.clock + s.linkLatency(e.from, e.to), seq: s.sent, envelope: e})
	}
	s.sent++
}

// linkLatency is the fixed latency of the link between nodes a and b: a
// hash of the seed and the unordered pair, in [1, MaxLatency].
func (s *Sim) linkLatency(a, b int32) int64 {
	lo, hi := uint64(min(a, b)), uint64(max(a, b))
	x := s.cfg.Seed ^ (lo<<32 | hi) ^ 0x9e3779b97f4a7c15
	// splitmix64's finalizer.
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return 1 + int64(x%uint64(s.cfg.MaxLatency))
}

// next takes the next message to deliver, if any.
func (s *Sim) next() (envelope, bool) {
	if s.cfg.Latency != UnitLatency {
		if len(s.timed) == 0 {
			return envelope{}, false
		}
		t := s.timed.pop()
		s.clock = t.at
		return t.envelope, true
	}
	if s.head == len(s.queue) {
		s.queue = s.queue[:0]
		s.head = 0
		return envelope{}, false
	}
	e := s.queue[s.head]
	s.queue[s.head] = envelope{}
	s.head++
	if s.head > 1<<16 && s.head*2 > len(s.queue) {
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue = s.queue[:n]
		s.head = 0
	}
	return e, true
}

func (s *Sim) applyHV(from int32, eff hyparview.Effects[int32]) {
	for _, m := range eff.Sends {
		s.push(envelope{from: from, to: m.To - 1, hv: m.Msg})
	}
	if len(eff.Changes) > 0 && s.nodes[from].pt != nil {
		s.changed = append(s.changed, from)
	}
}

func (s *Sim) applyPT(from int32, effs []plumtree.Effect) {
	for _, e := range effs {
		if e.Kind == plumtree.EffectSend {
			s.push(envelope{from: from, to: s.index[e.To], pt: e.Msg})
		}
	}
}

// syncMembers hands the Plumtree cores whose active view changed their new
// view.
func (s *Sim) syncMembers() {
	for len(s.changed) > 0 {
		i := s.changed[0]
		s.changed = s.changed[1:]
		n := &s.nodes[i]
		if n.alive && n.pt != nil {
			s.applyPT(i, n.pt.Update(s.activeNames(int(i)), s.now()))
		}
	}
	s.changed = s.changed[:0]
}

// drain delivers messages until none is in flight.
func (s *Sim) drain() {
	for {
		s.syncMembers()
		e, ok := s.next()
		if !ok {
			return
		}
		s.deliver(e)
	}
}

func (s *Sim) deliver(e envelope) {
	from, to := &s.nodes[e.from], &s.nodes[e.to]
	if !from.alive {
		return
	}
	if !to.alive {
		s.applyHV(e.from, from.hv.PeerDown(e.to+1))
		return
	}
	switch {
	case e.hv != nil:
		s.applyHV(e.to, to.hv.Handle(e.from+1, e.hv))
	case e.eager != nil:
		s.deliverEager(e.from, e.to, e.eager)
	case e.pt != nil:
		s.deliverPT(e.from, e.to, e.pt)
	}
}

func (s *Sim) deliverEager(from, to int32, m *eagerMsg) {
	b := s.bcasts[m.id]
	b.Payloads++
	if b.have[to] {
		return
	}
	s.mark(b, to, m.hop)
	s.gossip(to, from, m.id, m.hop)
}

// gossip forwards an eager payload from node i, never back to from.
func (s *Sim) gossip(i, from int32, id, hop int) {
	peers := s.nodes[i].hv.Active()
	if from >= 0 {
		peers = slices.DeleteFunc(peers, func(p int32) bool { return p == from+1 })
	}
	if s.cfg.Protocol == Eager && len(peers) > s.cfg.Fanout {
		s.rng.Shuffle(len(peers), func(a, b int) { peers[a], peers[b] = peers[b], peers[a] })
		peers = peers[:s.cfg.Fanout]
	}
	for _, p := range peers {
		s.push(envelope{from: i, to: p - 1, eager: &eagerMsg{id: id, hop: hop + 1}})
	}
}

func (s *Sim) deliverPT(from, to int32, m plumtree.Message) {
	var v plumtree.Verdict
	switch m := m.(type) {
	case *plumtree.Broadcast:
		id := m.ID.(int)
		b := s.bcasts[id]
		b.Payloads++
		if !b.have[to] {
			v.Fresh = true
			s.mark(b, to, m.Round+1)
		}
	case *plumtree.IHave:
		v.Stale = s.bcasts[m.ID.(int)].have[to]
	case *plumtree.Graft:
		if s.bcasts[m.ID.(int)].have[to] {
			v.Graft = plumtree.GraftResult{Status: plumtree.GraftOK, Payload: m.ID}
		} else {
			v.Graft = plumtree.GraftResult{Status: plumtree.GraftError}
		}
	}
	s.applyPT(to, s.nodes[to].pt.Handle(s.nodes[from].name, m, v, s.now()))
}

func (s *Sim) mark(b *bcast, i int32, hop int) {
	b.have[i] = true
	b.Delivered++
	if hop > b.LastHop {
		b.LastHop = hop
	}
}

// ErrDead is returned by Broadcast for a failed root.
var ErrDead = errors.New("sim: node failed")

// Broadcast sends a new message from node root and delivers every message
// in flight; with Plumtree it then runs one lazy tick on every live node
// (IHaves for what each announced, grafts of what is missing) and delivers
// again. It returns the broadcast's id.
func (s *Sim) Broadcast(root int) (int, error) {
	if !s.nodes[root].alive {
		return 0, ErrDead
	}
	id := len(s.bcasts)
	b := &bcast{Delivery: Delivery{ID: id, Root: root}, have: make([]bool, len(s.nodes))}
	s.bcasts = append(s.bcasts, b)
	s.mark(b, int32(root), 0)
	if s.cfg.Protocol == Plumtree {
		s.applyPT(int32(root), s.nodes[root].pt.Broadcast(handlerName, id, id, s.now()))
	} else {
		s.gossip(int32(root), -1, id, 0)
	}
	s.drain()
	if s.cfg.Protocol == Plumtree {
		s.LazyTick()
	}
	return id, nil
}

// LazyTick runs one lazy tick of every live Plumtree node and delivers what
// follows.
func (s *Sim) LazyTick() {
	if s.cfg.Protocol != Plumtree {
		return
	}
	for i := range s.nodes {
		if s.nodes[i].alive {
			s.applyPT(int32(i), s.nodes[i].pt.LazyTick(s.now()))
		}
	}
	s.drain()
}

// Membership runs one membership cycle: every live node shuffles and ticks
// its HyParView core, in index order, and the messages settle.
func (s *Sim) Membership() {
	s.cycle++
	for i := range s.nodes {
		n := &s.nodes[i]
		if !n.alive {
			continue
		}
		s.applyHV(int32(i), n.hv.Shuffle())
		s.applyHV(int32(i), n.hv.Tick())
	}
	s.drain()
}

// Stabilize runs k membership cycles.
func (s *Sim) Stabilize(k int) {
	for range k {
		s.Membership()
	}
}

// Kill fails the given nodes at once. Their live active peers notice (in
// index order) and repair their views, unless Config.DetectOnSend, when
// they find out as a send to a failed node fails.
func (s *Sim) Kill(nodes []int) {
	for _, i := range nodes {
		if s.nodes[i].alive {
			s.nodes[i].alive = false
			s.alive--
		}
	}
	if s.cfg.DetectOnSend {
		return
	}
	for i := range s.nodes {
		n := &s.nodes[i]
		if !n.alive {
			continue
		}
		for _, p := range n.hv.Active() {
			if !s.nodes[p-1].alive {
				s.applyHV(int32(i), n.hv.PeerDown(p))
			}
		}
	}
	s.drain()
}

// RandomAlive returns k distinct random live nodes other than the excluded
// ones (fewer if there are not enough).
func (s *Sim) RandomAlive(k int, exclude ...int) []int {
	var pool []int
	for i := range s.nodes {
		if s.nodes[i].alive && !slices.Contains(exclude, i) {
			pool = append(pool, i)
		}
	}
	k = min(k, len(pool))
	for j := range k {
		r := j + s.rng.IntN(len(pool)-j)
		pool[j], pool[r] = pool[r], pool[j]
	}
	return pool[:k]
}

// Measure returns what broadcast id reached among the nodes alive now.
func (s *Sim) Measure(id int) Delivery {
	b := s.bcasts[id]
	d := b.Delivery
	d.Alive = s.alive
	d.Delivered = 0
	for i, have := range b.have {
		if have && s.nodes[i].alive {
			d.Delivered++
		}
	}
	return d
}

// Components returns the number of connected components of the live nodes'
// active views (taken as undirected edges).
func (s *Sim) Components() int {
	seen := make([]bool, len(s.nodes))
	count := 0
	var stack []int32
	for start := range s.nodes {
		if seen[start] || !s.nodes[start].alive {
			continue
		}
		count++
		seen[start] = true
		stack = append(stack[:0], int32(start))
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, p := range s.nodes[x].hv.Active() {
				j := p - 1
				if !seen[j] && s.nodes[j].alive {
					seen[j] = true
					stack = append(stack, j)
				}
			}
		}
	}
	return count
}
