package transport

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Hook sees every frame the network is about to deliver, after partitions and
// random drops, before delays. It returns the frame to deliver (the same slice,
// changed in place, or a new one) and whether to deliver it at all. frame is
// the network's own copy. The hook runs on the writer's goroutine, inside
// WriteFrames, with no lock held; it must be safe for concurrent use when
// several connections write at once.
type Hook func(from, to string, frame []byte) (out []byte, deliver bool)

// Network is an in-memory network of nodes for tests, with faults on demand:
// partitions, disconnects, random drops, delays with jitter and a hook that
// inspects, drops or rewrites frames. Every node gets its view of it with
// Transport(addr).
//
// All randomness comes from one source seeded by NewNetwork and drawn in the
// order frames are sent, so the same seed and the same sequence of operations
// drop and delay the same frames. Delays run on the time package's timers, so
// under testing/synctest they follow the bubble's fake clock; create the
// Network inside the bubble.
//
// Fault settings are safe to change concurrently with traffic and apply to
// frames sent after the call.
type Network struct {
	mu           sync.Mutex
	rng          *rand.Rand
	maxFrameSize int
	listeners    map[string]*memListener
	links        map[*memLink]struct{} // open connections, for Disconnect
	groups       map[string]int        // address → partition group
	isolated     map[string]bool
	drops        map[route]float64
	delays       map[route]delay
	hook         Hook

	sent, delivered, dropped, lost atomic.Uint64
}

// route is a sender → receiver pair of addresses; "" in either is a wildcard.
type route struct{ from, to string }

type delay struct{ base, jitter time.Duration }

// NewNetwork returns an empty network whose drops and jitter are drawn from a
// source seeded with seed.
func NewNetwork(seed int64) *Network {
	return &Network{
		rng:          rand.New(rand.NewPCG(uint64(seed), 0x676f7470)),
		maxFrameSize: DefaultMaxFrameSize,
		listeners:    make(map[string]*memListener),
		links:        make(map[*memLink]struct{}),
		groups:       make(map[string]int),
		isolated:     make(map[string]bool),
		drops:        make(map[route]float64),
		delays:       make(map[route]delay),
	}
}

// Transport returns the view of the network of the node at addr: it listens
// at addr, and frames it sends originate from addr. addr is any non-empty
// name ("n1", "10.0.0.1:7946").
func (n *Network) Transport(addr string) Transport {
	return &memTransport{network: n, addr: addr}
}

// SetMaxFrameSize sets the largest frame connections accept, as TCP's
// MaxFrameSize does; zero restores DefaultMaxFrameSize. It applies to
// connections made after the call.
func (n *Network) SetMaxFrameSize(size int) error {
	size, err := resolveMaxFrameSize(size)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.maxFrameSize = size
	n.mu.Unlock()
	return nil
}

// Partition splits the network: addresses in different groups cannot dial
// each other (ErrUnreachable) and frames between them are dropped, while
// open connections stay open, as in a real partition. Addresses in no group
// reach everyone. It replaces the groups of an earlier Partition; an address
// listed twice belongs to its last group. Isolated addresses stay isolated.
func (n *Network) Partition(groups ...[]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.groups)
	for i, group := range groups {
		for _, addr := range group {
			n.groups[addr] = i
		}
	}
}

// Isolate cuts addr off from every other address, as Partition does, until
// Heal.
func (n *Network) Isolate(addr string) {
	n.mu.Lock()
	n.isolated[addr] = true
	n.mu.Unlock()
}

// Heal removes every partition and isolation. Drops, delays and the hook stay.
func (n *Network) Heal() {
	n.mu.Lock()
	clear(n.groups)
	clear(n.isolated)
	n.mu.Unlock()
}

// Disconnect closes every open connection between a and b, like a link going
// down: frames in flight are lost, writes on either end fail with an error
// wrapping ErrClosed, and ReadFrame on either end returns the frames already
// delivered and then io.EOF. New dials still work unless partitioned.
func (n *Network) Disconnect(a, b string) {
	n.mu.Lock()
	var cut []*memLink
	for link := range n.links {
		if (link.dialer == a && link.listener == b) || (link.dialer == b && link.listener == a) {
			cut = append(cut, link)
			delete(n.links, link)
		}
	}
	n.mu.Unlock()
	for _, link := range cut {
		link.reset()
	}
}

// SetDrop drops frames from → to with the given probability (clamped to
// [0, 1]; 0 removes the rule). "" is a wildcard for any address; the most
// specific rule applies: (from, to), then (from, ""), then ("", to), then
// ("", "").
func (n *Network) SetDrop(from, to string, probability float64) {
	probability = min(max(probability, 0), 1)
	n.mu.Lock()
	defer n.mu.Unlock()
	if probability == 0 {
		delete(n.drops, route{from, to})
		return
	}
	n.drops[route{from, to}] = probability
}

// SetDelay delays frames from → to by d plus a uniformly random extra in
// [0, jitter); d and jitter both 0 remove the rule. Wildcards and precedence
// are as for SetDrop. A connection stays FIFO: a frame is never delivered
// before one written earlier on the same connection, so jitter delays the
// frames behind a slow one rather than reordering them.
func (n *Network) SetDelay(from, to string, d, jitter time.Duration) {
	d, jitter = max(d, 0), max(jitter, 0)
	n.mu.Lock()
	defer n.mu.Unlock()
	if d == 0 && jitter == 0 {
		delete(n.delays, route{from, to})
		return
	}
	n.delays[route{from, to}] = delay{d, jitter}
}

// SetHook installs h for every frame sent after the call; nil removes it.
func (n *Network) SetHook(h Hook) {
	n.mu.Lock()
	n.hook = h
	n.mu.Unlock()
}

// NetworkStats counts frames since the network was made.
type NetworkStats struct {
	Sent      uint64 // frames passed to WriteFrames
	Delivered uint64 // frames that reached the receiver's queue
	Dropped   uint64 // frames dropped by a partition, SetDrop or the hook
	Lost      uint64 // frames in flight when their connection closed or was disconnected
}

// Stats returns the frame counters.
func (n *Network) Stats() NetworkStats {
	return NetworkStats{
		Sent:      n.sent.Load(),
		Delivered: n.delivered.Load(),
		Dropped:   n.dropped.Load(),
		Lost:      n.lost.Load(),
	}
}

// reachableLocked reports whether a and b may exchange frames and dial each
// other. n.mu is held.
func (n *Network) reachableLocked(a, b string) bool {
	if a == b {
		return true
	}
	if n.isolated[a] || n.isolated[b] {
		return false
	}
	groupA, inA := n.groups[a]
	groupB, inB := n.groups[b]
	return !inA || !inB || groupA == groupB
}

// fate is what the network decided for one frame.
type fate struct {
	deliver bool
	delay   time.Duration
	hook    Hook
}

// decide draws the fate of one frame from → to. Random numbers are drawn only
// for rules that need them, in the order frames are sent, which is what makes
// a seed replay.
func (n *Network) decide(from, to string) fate {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.reachableLocked(from, to) {
		return fate{}
	}
	if p, ok := lookupRoute(n.drops, from, to); ok && n.rng.Float64() < p {
		return fate{}
	}
	f := fate{deliver: true, hook: n.hook}
	if d, ok := lookupRoute(n.delays, from, to); ok {
		f.delay = d.base
		if d.jitter > 0 {
			f.delay += time.Duration(n.rng.Int64N(int64(d.jitter)))
		}
	}
	return f
}

func lookupRoute[V any](rules map[route]V, from, to string) (V, bool) {
	for _, r := range [...]route{{from, to}, {from, ""}, {"", to}, {"", ""}} {
		if v, ok := rules[r]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}
