package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/plumtree/sim"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Broadcast among in-process nodes on the in-memory network: Plumtree
// against eager flooding over the same overlay, in one harness, on two
// overlays:
//
//   - full: every node a member of every other's Plumtree server, which
//     starts from riak_core's initial peers (InitPeers: fanout round(ln N +
//     1) eager, the rest lazy); flooding uses those links made symmetric.
//   - hyparview: each node's members are its HyParView active view (size 5,
//     as the papers), built by plumtree/sim's simulation of the production
//     HyParView core and stabilized for 50 rounds; Plumtree starts with every
//     active peer eager (the paper's algorithm) and flooding uses the same
//     links.
//
// Reported per size:
//
//	bcasts/s            broadcasts delivered to every node per second (32 in flight)
//	payloads/node/bcast payload messages received per node per broadcast (1 is optimal)
//	wire-B/delivery     bytes on the network (every frame) per delivery to a node
//	p50-ms, p99-ms      one broadcast at a time: latency to the last node

const (
	bcastPayloadSize = 100
	bcastWindow      = 32
	bcastRoots       = 4
	latencySamples   = 100
)

// bcastTracker records deliveries: per broadcast id, how many nodes still
// miss it, and when the last one got it.
type bcastTracker struct {
	mu       sync.Mutex
	pending  map[int]*bcastWait
	payloads atomic.Int64 // payload messages received by any node
	nodes    int
}

type bcastWait struct {
	remaining int
	start     time.Time
	last      time.Time
	done      chan struct{}
}

func (tr *bcastTracker) expect(id int) *bcastWait {
	w := &bcastWait{remaining: tr.nodes - 1, start: time.Now(), done: make(chan struct{})}
	tr.mu.Lock()
	tr.pending[id] = w
	tr.mu.Unlock()
	return w
}

func (tr *bcastTracker) delivered(id int) {
	tr.mu.Lock()
	w := tr.pending[id]
	if w != nil {
		w.remaining--
		if w.remaining == 0 {
			w.last = time.Now()
			delete(tr.pending, id)
			close(w.done)
		}
	}
	tr.mu.Unlock()
}

// bcastHandler is a plumtree handler that keeps ids only.
type bcastHandler struct {
	tr   *bcastTracker
	mu   sync.Mutex
	seen map[int][]byte
}

func (h *bcastHandler) Name() string { return "bench" }
func (h *bcastHandler) BroadcastData(msg any) (any, any, error) {
	id := msg.(int)
	p := make([]byte, bcastPayloadSize)
	h.mu.Lock()
	h.seen[id] = p
	h.mu.Unlock()
	return id, p, nil
}
func (h *bcastHandler) Merge(id, payload any) bool {
	h.tr.payloads.Add(1)
	h.mu.Lock()
	_, dup := h.seen[id.(int)]
	if !dup {
		h.seen[id.(int)] = payload.([]byte)
	}
	h.mu.Unlock()
	if !dup {
		h.tr.delivered(id.(int))
	}
	return !dup
}
func (h *bcastHandler) IsStale(id any) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.seen[id.(int)]
	return ok
}
func (h *bcastHandler) Graft(id any) (any, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.seen[id.(int)]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no %v", id)
}
func (h *bcastHandler) Exchange(*actor.Process, string) (actor.PID, error) {
	return actor.PID{}, plumtree.ErrIgnore
}

// bcastCluster is n nodes with remote layers that find each other by name,
// and a broadcast function of the system under test.
type bcastCluster struct {
	names     []string
	tr        *bcastTracker
	broadcast func(root int, id int)
	wireBytes atomic.Int64
	stop      func()
}

func newBcastNodes(tb testing.TB, n int) (*bcastCluster, []*actor.Node, func()) {
	net := transport.NewNetwork(1)
	c := &bcastCluster{tr: &bcastTracker{pending: map[int]*bcastWait{}, nodes: n}}
	net.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
		c.wireBytes.Add(int64(len(frame)))
		return frame, true
	})
	var nodes []*actor.Node
	var remotes []*remote.Remote
	for i := range n {
		c.names = append(c.names, bcastName(i))
	}
	for _, name := range c.names {
		nd, err := actor.NewNode(actor.Config{Name: name, Logger: discard})
		if err != nil {
			tb.Fatal(err)
		}
		r, err := remote.Start(nd, remote.Config{Cookie: "bench", Logger: discard, Transport: net.Transport(name), Listen: []string{name},
			Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
		if err != nil {
			tb.Fatal(err)
		}
		nodes = append(nodes, nd)
		remotes = append(remotes, r)
	}
	stop := func() {
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Go(func() {
				remotes[i].Stop()
				_ = nodes[i].Stop(context.Background())
			})
		}
		wg.Wait()
	}
	return c, nodes, stop
}

func plumtreeCluster(tb testing.TB, n int) *bcastCluster {
	return plumtreeClusterWith(tb, n, plumtree.Config{})
}

// plumtreeHyParView is Plumtree over HyParView active views.
func plumtreeHyParView(tb testing.TB, n int) *bcastCluster {
	return plumtreeOver(tb, n, plumtree.Config{}, hyparviewOverlay(tb, n))
}

func floodHyParView(tb testing.TB, n int) *bcastCluster {
	return floodOver(tb, n, hyparviewOverlay(tb, n))
}

func plumtreeClusterWith(tb testing.TB, n int, cfg plumtree.Config) *bcastCluster {
	return plumtreeOver(tb, n, cfg, nil)
}

// hyparviewOverlay is each node's HyParView active view (by the bench
// nodes' names), from a simulation of the production core.
func hyparviewOverlay(tb testing.TB, n int) map[string][]string {
	s, err := sim.New(sim.Config{Nodes: n, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	s.Stabilize(50)
	adj := map[string][]string{}
	for i := range n {
		for _, j := range s.Active(i) {
			adj[bcastName(i)] = append(adj[bcastName(i)], bcastName(j))
			adj[bcastName(j)] = append(adj[bcastName(j)], bcastName(i))
		}
	}
	for k, v := range adj {
		slices.Sort(v)
		adj[k] = slices.Compact(v)
	}
	return adj
}

func bcastName(i int) string { return fmt.Sprintf("b%03d", i) }

// plumtreeOver starts a Plumtree server on every node: with overlay nil,
// every node a member (initial peers by InitPeers); else each node's
// members are its overlay neighbours, all eager at first.
func plumtreeOver(tb testing.TB, n int, cfg plumtree.Config, overlay map[string][]string) *bcastCluster {
	c, nodes, stopNodes := newBcastNodes(tb, n)
	var servers []*plumtree.Server
	for i, nd := range nodes {
		h := &bcastHandler{tr: c.tr, seen: map[int][]byte{}}
		cfg := cfg
		cfg.Handlers, cfg.Members, cfg.NoMembershipUpdates, cfg.Logger = []plumtree.Handler{h}, c.names, true, discard
		if overlay != nil {
			peers := overlay[c.names[i]]
			cfg.Members = append(slices.Clone(peers), c.names[i])
			cfg.Eagers, cfg.Lazys = slices.Clone(peers), []string{}
		}
		srv, err := plumtree.Start(nd, nil, cfg)
		if err != nil {
			tb.Fatal(err)
		}
		servers = append(servers, srv)
	}
	c.broadcast = func(root, id int) {
		if err := servers[root].Broadcast(id, "bench"); err != nil {
			tb.Fatal(err)
		}
	}
	c.stop = func() {
		for _, s := range servers {
			_ = s.Stop(context.Background())
		}
		stopNodes()
	}
	return c
}

// floodOverlay is the overlay Plumtree starts from (InitPeers' eager and
// lazy peers), made symmetric: what eager push gossip floods over.
func floodOverlay(names []string) map[string][]string {
	adj := map[string][]string{}
	for i, self := range names {
		e, l := plumtree.InitPeers(self, names, rand.New(rand.NewPCG(1, uint64(i))))
		for _, p := range append(e, l...) {
			adj[self] = append(adj[self], p)
			adj[p] = append(adj[p], self)
		}
	}
	for k, v := range adj {
		slices.Sort(v)
		adj[k] = slices.Compact(v)
	}
	return adj
}

const floodName = "bench_flood"

// flooder forwards every message new to it to all its overlay neighbours
// but the one it came from.
type flooder struct {
	self  string
	peers []string
	seen  map[int]bool
	tr    *bcastTracker
}

func (f *flooder) Receive(p *actor.Process, msg any) error {
	m, ok := msg.([]any)
	if !ok || len(m) != 3 {
		return nil
	}
	id, _ := m[0].(int)
	from, _ := m[2].(string)
	if from != "" {
		f.tr.payloads.Add(1)
	}
	if f.seen[id] {
		return nil
	}
	f.seen[id] = true
	if from != "" {
		f.tr.delivered(id)
	}
	out := []any{id, m[1], f.self}
	for _, peer := range f.peers {
		if peer != from {
			_ = p.Send(actor.Name{Node: peer, Name: floodName}, out)
		}
	}
	return nil
}

func floodCluster(tb testing.TB, n int) *bcastCluster {
	return floodOver(tb, n, nil)
}

// floodOver floods over overlay, or with overlay nil over the links
// Plumtree starts from on full membership.
func floodOver(tb testing.TB, n int, overlay map[string][]string) *bcastCluster {
	c, nodes, stopNodes := newBcastNodes(tb, n)
	adj := overlay
	if adj == nil {
		adj = floodOverlay(c.names)
	}
	for i, nd := range nodes {
		f := &flooder{self: c.names[i], peers: adj[c.names[i]], seen: map[int]bool{}, tr: c.tr}
		if _, err := nd.Spawn(f, actor.WithName(floodName)); err != nil {
			tb.Fatal(err)
		}
	}
	c.broadcast = func(root, id int) {
		payload := make([]byte, bcastPayloadSize)
		if err := nodes[root].Send(actor.Name{Name: floodName}, []any{id, payload, ""}); err != nil {
			tb.Fatal(err)
		}
	}
	c.stop = stopNodes
	return c
}

func (c *bcastCluster) root(id int) int { return (id % bcastRoots) * (len(c.names) / bcastRoots) }

// one broadcasts id and waits until every node has it.
func (c *bcastCluster) one(tb testing.TB, id int) time.Duration {
	w := c.tr.expect(id)
	c.broadcast(c.root(id), id)
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		tb.Fatalf("broadcast %d missing at %d nodes", id, w.remaining)
	}
	return w.last.Sub(w.start)
}

func BenchmarkPlumtreeBroadcast(b *testing.B) {
	for _, n := range []int{10, 50, 200} {
		for _, sys := range []struct {
			name  string
			start func(testing.TB, int) *bcastCluster
		}{{"plumtree", plumtreeCluster}, {"flood", floodCluster}, {"plumtree-hyparview", plumtreeHyParView}, {"flood-hyparview", floodHyParView}} {
			b.Run(fmt.Sprintf("%s/n=%d", sys.name, n), func(b *testing.B) {
				c := sys.start(b, n)
				defer c.stop()
				id := 0
				// Warm up: each root's tree forms over its first broadcasts.
				for range 5 * bcastRoots {
					c.one(b, id)
					id++
				}
				payloads0, bytes0 := c.tr.payloads.Load(), c.wireBytes.Load()
				b.ReportAllocs()
				b.ResetTimer()
				inflight := make(chan *bcastWait, bcastWindow)
				for range b.N {
					w := c.tr.expect(id)
					inflight <- w
					c.broadcast(c.root(id), id)
					id++
					if len(inflight) == bcastWindow {
						<-(<-inflight).done
					}
				}
				for len(inflight) > 0 {
					<-(<-inflight).done
				}
				b.StopTimer()
				deliveries := float64(b.N * (n - 1))
				b.ReportMetric(perSecond(b, b.N), "bcasts/s")
				b.ReportMetric(float64(c.tr.payloads.Load()-payloads0)/deliveries, "payloads/node/bcast")
				b.ReportMetric(float64(c.wireBytes.Load()-bytes0)/deliveries, "wire-B/delivery")
				var lat []time.Duration
				for range latencySamples {
					lat = append(lat, c.one(b, id))
					id++
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}
