package plumtree_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/plumtree"
)

// coreNet drives a cluster of cores directly: messages wait in one FIFO
// queue and are handed over one at a time, each node's handler is a map of
// message ids to payloads, and links can be cut.
type coreNet struct {
	t     *testing.T
	now   time.Time
	cores map[string]*plumtree.Core
	names []string
	store map[string]map[any]any // node -> id -> payload
	queue []envelope
	cut   map[[2]string]bool
	down  map[string]bool
	// payloads counts Broadcast messages handed over since the last reset.
	payloads int
	sent     []envelope // every send, when record is set
	record   bool
}

type envelope struct {
	from, to string
	msg      plumtree.Message
}

func newCoreNet(t *testing.T, n int, cfg plumtree.CoreConfig) *coreNet {
	t.Helper()
	net := &coreNet{t: t, now: time.Unix(1_700_000_000, 0), cores: map[string]*plumtree.Core{},
		store: map[string]map[any]any{}, cut: map[[2]string]bool{}, down: map[string]bool{}}
	for i := range n {
		net.names = append(net.names, fmt.Sprintf("n%03d", i))
	}
	for _, name := range net.names {
		c, err := plumtree.NewCore(name, cfg, net.names)
		if err != nil {
			t.Fatal(err)
		}
		net.cores[name] = c
		net.store[name] = map[any]any{}
	}
	return net
}

func (n *coreNet) apply(from string, effects []plumtree.Effect) {
	for _, e := range effects {
		if e.Kind != plumtree.EffectSend {
			continue
		}
		env := envelope{from: from, to: e.To, msg: e.Msg}
		if n.record {
			n.sent = append(n.sent, env)
		}
		n.queue = append(n.queue, env)
	}
}

// run hands over messages until none is left.
func (n *coreNet) run() {
	for steps := 0; len(n.queue) > 0; steps++ {
		if steps > 10_000_000 {
			n.t.Fatal("messages never settle")
		}
		env := n.queue[0]
		n.queue = n.queue[1:]
		if n.cut[[2]string{env.from, env.to}] || n.cut[[2]string{env.to, env.from}] || n.down[env.to] || n.down[env.from] {
			continue
		}
		n.deliver(env)
	}
}

func (n *coreNet) deliver(env envelope) {
	store := n.store[env.to]
	var v plumtree.Verdict
	switch m := env.msg.(type) {
	case *plumtree.Broadcast:
		n.payloads++
		if _, ok := store[m.ID]; !ok {
			store[m.ID] = m.Payload
			v.Fresh = true
		}
	case *plumtree.IHave:
		_, v.Stale = store[m.ID]
	case *plumtree.Graft:
		if p, ok := store[m.ID]; ok {
			v.Graft = plumtree.GraftResult{Status: plumtree.GraftOK, Payload: p}
		} else {
			v.Graft = plumtree.GraftResult{Status: plumtree.GraftError}
		}
	}
	n.apply(env.to, n.cores[env.to].Handle(env.from, env.msg, v, n.now))
}

func (n *coreNet) broadcast(root string, id, payload any) {
	n.store[root][id] = payload
	n.apply(root, n.cores[root].Broadcast("h", id, payload, n.now))
	n.run()
}

func (n *coreNet) lazyTick() {
	n.now = n.now.Add(time.Second)
	for _, name := range n.names {
		if !n.down[name] {
			n.apply(name, n.cores[name].LazyTick(n.now))
		}
	}
	n.run()
}

// reached counts the live nodes holding id.
func (n *coreNet) reached(id any) (got, live int) {
	for _, name := range n.names {
		if n.down[name] {
			continue
		}
		live++
		if _, ok := n.store[name][id]; ok {
			got++
		}
	}
	return got, live
}

func TestCoreClusterRMR(t *testing.T) {
	for _, size := range []int{3, 7, 50} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			net := newCoreNet(t, size, plumtree.CoreConfig{Seed: 7})
			root := net.names[size/2]
			for b := range 20 {
				net.payloads = 0
				net.broadcast(root, b, fmt.Sprint("payload ", b))
				got, live := net.reached(b)
				if got != live {
					t.Fatalf("broadcast %d reached %d of %d nodes", b, got, live)
				}
				rmr := float64(net.payloads)/float64(live-1) - 1
				if b >= 2 && rmr > 0.05 {
					t.Fatalf("broadcast %d: RMR %.3f (%d payloads for %d nodes), want <= 0.05", b, rmr, net.payloads, live)
				}
				net.lazyTick()
			}
		})
	}
}

func TestCoreClusterManyRoots(t *testing.T) {
	net := newCoreNet(t, 30, plumtree.CoreConfig{Seed: 3})
	roots := net.names[:5]
	for b := range 25 {
		root := roots[b%len(roots)]
		net.payloads = 0
		net.broadcast(root, b, b)
		if got, live := net.reached(b); got != live {
			t.Fatalf("broadcast %d reached %d of %d", b, got, live)
		}
		// From each root's third broadcast on its tree is a spanning tree.
		if b >= 2*len(roots) && net.payloads != len(net.names)-1 {
			t.Fatalf("broadcast %d from %s: %d payloads, want %d", b, root, net.payloads, len(net.names)-1)
		}
		net.lazyTick()
	}
}

func TestCoreClusterRepairsCutEagerLink(t *testing.T) {
	net := newCoreNet(t, 20, plumtree.CoreConfig{Seed: 11})
	root := net.names[0]
	for b := range 3 {
		net.broadcast(root, b, b)
		net.lazyTick()
	}
	// Cut one eager link of the root: the subtree behind it misses the
	// payload.
	eagers, _ := net.cores[root].Peers(root)
	if len(eagers) == 0 {
		t.Fatal("root has no eager peers")
	}
	net.cut[[2]string{root, eagers[0]}] = true
	net.broadcast(root, "after-cut", "x")
	if got, live := net.reached("after-cut"); got == live {
		t.Fatal("with an eager link cut every node still has the message")
	}
	// One lazy tick: the subtree's lazy peers announce it, are grafted,
	// and the tree routes around the cut.
	net.lazyTick()
	if got, live := net.reached("after-cut"); got != live {
		t.Fatalf("after one lazy tick %d of %d nodes have the message", got, live)
	}
	net.broadcast(root, "next", "y")
	if got, live := net.reached("next"); got != live {
		t.Fatalf("next broadcast reached %d of %d", got, live)
	}
}

func TestCoreDeterministic(t *testing.T) {
	run := func() []envelope {
		net := newCoreNet(t, 25, plumtree.CoreConfig{Seed: 5, Handlers: []string{"h"}})
		net.record = true
		for b := range 6 {
			net.broadcast(net.names[b%3], b, b)
			net.lazyTick()
		}
		return net.sent
	}
	a, b := run(), run()
	if !slices.EqualFunc(a, b, func(x, y envelope) bool {
		return x.from == y.from && x.to == y.to && fmt.Sprintf("%#v", x.msg) == fmt.Sprintf("%#v", y.msg)
	}) {
		t.Fatal("two runs with the same seed sent different messages")
	}
}

// Concurrent broadcasts from several roots, delivered in a random order:
// the trees still settle into spanning trees (no grafts, one payload per
// node per broadcast).
func TestCoreConcurrentBroadcastsSettle(t *testing.T) {
	net := newCoreNet(t, 80, plumtree.CoreConfig{Seed: 9})
	rng := rand.New(rand.NewPCG(4, 5))
	roots := []string{"n000", "n020", "n040", "n060"}
	id := 0
	for round := range 8 {
		net.payloads = 0
		for range 16 {
			root := roots[id%len(roots)]
			net.store[root][id] = id
			net.apply(root, net.cores[root].Broadcast("h", id, id, net.now))
			id++
			// Deliver some of what is queued, out of order, before the
			// next broadcast starts.
			for i := 0; i < 100 && len(net.queue) > 0; i++ {
				j := rng.IntN(min(len(net.queue), 40))
				env := net.queue[j]
				net.queue[j] = net.queue[0]
				net.queue = net.queue[1:]
				net.deliver(env)
			}
		}
		net.run()
		for b := id - 16; b < id; b++ {
			if got, live := net.reached(b); got != live {
				t.Fatalf("broadcast %d reached %d of %d", b, got, live)
			}
		}
		if round >= 3 && net.payloads != 16*(len(net.names)-1) {
			t.Fatalf("round %d: %d payloads for 16 broadcasts to %d nodes, want %d", round, net.payloads, len(net.names)-1, 16*(len(net.names)-1))
		}
		net.lazyTick()
	}
}
