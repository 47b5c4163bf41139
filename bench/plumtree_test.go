package bench

import (
	"context"
	"encoding/binary"
	"fmt"

	"io"
	"log"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

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
// Beside them, "memberlist" is hashicorp/memberlist's gossip broadcast: n
// memberlist instances (DefaultLANConfig, GossipInterval 5 ms) joined into
// one cluster on memberlist's in-memory MockNetwork. A broadcast is queued
// on a TransmitLimitedQueue (default RetransmitMult) and piggybacked on
// gossip ticks to GossipNodes random members; every node that sees an id
// for the first time queues it for re-gossip, as memberlist users do for
// epidemic broadcast. Each queued copy is sent a bounded number of times
// (RetransmitMult × ceil(log10(n+1))) and then dropped, so a broadcast can
// miss nodes for good: once no node still queues it and no packet carries
// it, or once it reached no new node for mlStallDeadline, it is counted as
// lost, and lost-% reports the deliveries that never happened (latencies
// are of the broadcasts that reached every node; bcasts/s includes the
// waits for the stall deadline).
//
// Reported per size:
//
//	bcasts/s            broadcasts delivered to every node per second (32 in flight)
//	payloads/node/bcast payload messages received per node per broadcast (1 is optimal)
//	wire-B/delivery     bytes on the network (every frame) per delivery to a node;
//	                    for memberlist every packet and stream byte its
//	                    transport writes, probes and acks included
//	p50-ms, p99-ms      one broadcast at a time: latency to the last node
//	lost-%              memberlist only: deliveries missing once the
//	                    broadcast stopped spreading

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
	missing   int // nodes the broadcast never reached (set by lost)
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

// lost ends the wait for id, if it is still pending: it will reach no
// more nodes.
func (tr *bcastTracker) lost(id int) {
	tr.mu.Lock()
	if w := tr.pending[id]; w != nil {
		w.missing = w.remaining
		delete(tr.pending, id)
		close(w.done)
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
	lossy     bool // broadcasts may end before every node has them
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

// bcastDeadline bounds every wait for a broadcast, so that a system that
// stops delivering fails the benchmark instead of hanging it.
const bcastDeadline = 30 * time.Second

// wait blocks until w is done: delivered everywhere, or lost.
func (c *bcastCluster) wait(tb testing.TB, id int, w *bcastWait) {
	select {
	case <-w.done:
	case <-time.After(bcastDeadline):
		c.tr.mu.Lock()
		remaining := w.remaining
		c.tr.mu.Unlock()
		tb.Fatalf("broadcast %d missing at %d of %d nodes after %v", id, remaining, len(c.names)-1, bcastDeadline)
	}
}

// one broadcasts id and waits until every node has it; it returns the
// latency to the last node and how many nodes it never reached.
func (c *bcastCluster) one(tb testing.TB, id int) (time.Duration, int) {
	w := c.tr.expect(id)
	c.broadcast(c.root(id), id)
	c.wait(tb, id, w)
	return w.last.Sub(w.start), w.missing
}

func BenchmarkPlumtreeBroadcast(b *testing.B) {
	for _, n := range []int{10, 50, 200} {
		for _, sys := range []struct {
			name  string
			start func(testing.TB, int) *bcastCluster
		}{{"plumtree", plumtreeCluster}, {"flood", floodCluster}, {"plumtree-hyparview", plumtreeHyParView}, {"flood-hyparview", floodHyParView}, {"memberlist", memberlistCluster}} {
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
				type flight struct {
					id int
					w  *bcastWait
				}
				inflight := make(chan flight, bcastWindow)
				missing := 0
				land := func() {
					f := <-inflight
					c.wait(b, f.id, f.w)
					missing += f.w.missing
				}
				for range b.N {
					inflight <- flight{id, c.tr.expect(id)}
					c.broadcast(c.root(id), id)
					id++
					if len(inflight) == bcastWindow {
						land()
					}
				}
				for len(inflight) > 0 {
					land()
				}
				b.StopTimer()
				deliveries := float64(b.N*(n-1) - missing)
				b.ReportMetric(perSecond(b, b.N), "bcasts/s")
				b.ReportMetric(float64(c.tr.payloads.Load()-payloads0)/deliveries, "payloads/node/bcast")
				b.ReportMetric(float64(c.wireBytes.Load()-bytes0)/deliveries, "wire-B/delivery")
				var lat []time.Duration
				for range latencySamples {
					d, miss := c.one(b, id)
					if miss == 0 {
						lat = append(lat, d)
					}
					missing += miss
					id++
				}
				if len(lat) == 0 {
					b.Fatalf("none of %d broadcasts reached every node", latencySamples)
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				if c.lossy {
					b.ReportMetric(100*float64(missing)/float64((b.N+latencySamples)*(n-1)), "lost-%")
				}
			})
		}
	}
}

// mlGossipInterval is memberlist's gossip tick for the benchmark. The LAN
// default (200 ms) is tuned for membership updates; a broadcast waits for a
// tick at every hop, so its latency is about hops × interval. 5 ms, the
// short end of what is reasonable here: a tick with an empty queue sends
// nothing, but each of 200 instances still wakes 200 times a second.
const mlGossipInterval = 5 * time.Millisecond

// mlJoinDeadline bounds the wait for every member to see the whole cluster.
const mlJoinDeadline = 60 * time.Second

// mlStallDeadline ends a broadcast that reached no new node for that long.
// The copy counts below miss a copy that leaves a queue without Finished:
// TransmitLimitedQueue keys its items by (transmits, length, id) and
// restarts ids when it empties, so under load a newer copy of the same
// length can replace an older one in the same tier.
const mlStallDeadline = 2 * time.Second

// mlSystem is the state shared by a memberlist cluster's delegates: per
// broadcast id, how many queued copies and packets in transit still carry
// it. When none do, the broadcast can reach no more nodes and is lost; a
// broadcast that stalls past mlStallDeadline is lost too.
type mlSystem struct {
	tr     *bcastTracker
	mu     sync.Mutex
	copies map[int]*mlCopies
}

type mlCopies struct {
	queued, transit int
	stall           *time.Timer
}

// start arms id's stall deadline.
func (s *mlSystem) start(id int) {
	t := time.AfterFunc(mlStallDeadline, func() {
		s.mu.Lock()
		delete(s.copies, id)
		s.mu.Unlock()
		s.tr.lost(id)
	})
	s.mu.Lock()
	s.copy(id).stall = t
	s.mu.Unlock()
}

// copy returns id's counts; s.mu held.
func (s *mlSystem) copy(id int) *mlCopies {
	c := s.copies[id]
	if c == nil {
		c = &mlCopies{}
		s.copies[id] = c
	}
	return c
}

// progress restarts id's stall deadline: it reached a new node.
func (s *mlSystem) progress(id int) {
	s.mu.Lock()
	if c := s.copies[id]; c != nil && c.stall != nil {
		c.stall.Reset(mlStallDeadline)
	}
	s.mu.Unlock()
}

// carry adds dq queued copies and dt copies in transit to id's (either
// may be negative).
func (s *mlSystem) carry(id, dq, dt int) {
	s.mu.Lock()
	c := s.copy(id)
	c.queued += dq
	c.transit += dt
	gone := c.queued <= 0 && c.transit <= 0
	if gone {
		if c.stall != nil {
			c.stall.Stop()
		}
		delete(s.copies, id)
	}
	s.mu.Unlock()
	if gone {
		s.tr.lost(id)
	}
}

// mlBroadcast is one queued copy of a broadcast on one node.
type mlBroadcast struct {
	id  int
	msg []byte
	d   *mlDelegate
}

var (
	_ memberlist.UniqueBroadcast = (*mlBroadcast)(nil)
	_ memberlist.Delegate        = (*mlDelegate)(nil)
	_ memberlist.EventDelegate   = (*mlEvents)(nil)
)

func (b *mlBroadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b *mlBroadcast) Message() []byte                       { return b.msg }
func (b *mlBroadcast) UniqueBroadcast()                      {}

// Finished runs inside the queue's GetBroadcasts (the only caller for a
// unique broadcast); the copy is released there, after the packets it
// went out in are counted.
func (b *mlBroadcast) Finished() { b.d.finished = append(b.d.finished, b.id) }

// mlDelegate is one node's memberlist delegate: it gossips its queue and
// re-queues every broadcast it sees first.
type mlDelegate struct {
	sys   *mlSystem
	queue *memberlist.TransmitLimitedQueue

	getMu    sync.Mutex // one GetBroadcasts at a time (gossip and probe piggyback)
	finished []int      // ids whose copy the running GetBroadcasts dropped

	mu   sync.Mutex
	seen map[int]bool
}

func mlEncode(id int) []byte {
	msg := make([]byte, 8+bcastPayloadSize)
	binary.BigEndian.PutUint64(msg, uint64(id))
	return msg
}

// push marks id seen and queues msg for gossip; false if it was seen.
func (d *mlDelegate) push(id int, msg []byte) bool {
	d.mu.Lock()
	dup := d.seen[id]
	d.seen[id] = true
	d.mu.Unlock()
	if dup {
		return false
	}
	d.sys.carry(id, 1, 0)
	d.queue.QueueBroadcast(&mlBroadcast{id: id, msg: msg, d: d})
	return true
}

func (d *mlDelegate) NodeMeta(int) []byte { return nil }

func (d *mlDelegate) NotifyMsg(buf []byte) {
	if len(buf) != 8+bcastPayloadSize {
		return
	}
	id := int(binary.BigEndian.Uint64(buf))
	d.sys.tr.payloads.Add(1)
	if d.push(id, slices.Clone(buf)) {
		d.sys.progress(id)
		d.sys.tr.delivered(id)
	}
	d.sys.carry(id, 0, -1) // this packet's copy has landed
}

func (d *mlDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	d.getMu.Lock()
	defer d.getMu.Unlock()
	msgs := d.queue.GetBroadcasts(overhead, limit)
	// Every message returned goes out in a packet: count the copies in
	// transit before releasing the queued copies that reached their limit.
	for _, m := range msgs {
		d.sys.carry(int(binary.BigEndian.Uint64(m)), 0, 1)
	}
	for _, id := range d.finished {
		d.sys.carry(id, -1, 0)
	}
	d.finished = d.finished[:0]
	return msgs
}

func (d *mlDelegate) LocalState(bool) []byte        { return nil }
func (d *mlDelegate) MergeRemoteState([]byte, bool) {}

// mlEvents signals full once its node has seen n members join.
type mlEvents struct {
	n, joined int
	full      chan struct{}
}

func (e *mlEvents) NotifyJoin(*memberlist.Node) {
	e.joined++
	if e.joined == e.n {
		close(e.full)
	}
}
func (e *mlEvents) NotifyLeave(*memberlist.Node)  {}
func (e *mlEvents) NotifyUpdate(*memberlist.Node) {}

// mlTransport is memberlist's MockTransport with its bytes counted and
// packets handed over through a buffer: the mock's unbuffered channels
// deadlock when two nodes' packet handlers answer each other at once.
type mlTransport struct {
	*memberlist.MockTransport
	bytes   *atomic.Int64
	packets chan *memberlist.Packet
}

var _ memberlist.NodeAwareTransport = (*mlTransport)(nil)

func newMLTransport(mock *memberlist.MockTransport, bytes *atomic.Int64) *mlTransport {
	t := &mlTransport{MockTransport: mock, bytes: bytes, packets: make(chan *memberlist.Packet, 1<<12)}
	go func() {
		for p := range mock.PacketCh() {
			t.packets <- p
		}
	}()
	return t
}

func (t *mlTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

func (t *mlTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *mlTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	t.bytes.Add(int64(len(b)))
	return t.MockTransport.WriteToAddress(b, a)
}

func (t *mlTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *mlTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	conn, err := t.MockTransport.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	return &mlConn{Conn: conn, bytes: t.bytes}, nil
}

// mlConn counts a stream's bytes (push/pull, join) both ways at the
// dialing end: what it writes and what the other end writes back.
type mlConn struct {
	net.Conn
	bytes *atomic.Int64
}

func (c *mlConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.bytes.Add(int64(n))
	return n, err
}

func (c *mlConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.bytes.Add(int64(n))
	return n, err
}

// memberlistCluster is n memberlist instances on one MockNetwork, joined
// through the first, broadcasting through TransmitLimitedQueues.
func memberlistCluster(tb testing.TB, n int) *bcastCluster {
	c := &bcastCluster{tr: &bcastTracker{pending: map[int]*bcastWait{}, nodes: n}, lossy: true}
	sys := &mlSystem{tr: c.tr, copies: map[int]*mlCopies{}}
	// The mock network's maps are not locked: make every transport before
	// any instance runs.
	mock := &memberlist.MockNetwork{}
	var transports []*mlTransport
	for i := range n {
		c.names = append(c.names, bcastName(i))
		transports = append(transports, newMLTransport(mock.NewTransport(c.names[i]), &c.wireBytes))
	}
	var (
		lists     []*memberlist.Memberlist
		delegates []*mlDelegate
		events    []*mlEvents
	)
	c.stop = func() {
		var wg sync.WaitGroup
		for _, l := range lists {
			wg.Go(func() { _ = l.Shutdown() })
		}
		wg.Wait()
	}
	for i := range n {
		cfg := memberlist.DefaultLANConfig()
		cfg.Name = c.names[i]
		cfg.Transport = transports[i]
		cfg.GossipInterval = mlGossipInterval
		cfg.Logger = log.New(io.Discard, "", 0)
		d := &mlDelegate{sys: sys, seen: map[int]bool{}, queue: &memberlist.TransmitLimitedQueue{RetransmitMult: cfg.RetransmitMult}}
		ev := &mlEvents{n: n, full: make(chan struct{})}
		cfg.Delegate, cfg.Events = d, ev
		l, err := memberlist.Create(cfg)
		if err != nil {
			c.stop()
			tb.Fatal(err)
		}
		d.queue.NumNodes = l.NumMembers
		lists, delegates, events = append(lists, l), append(delegates, d), append(events, ev)
		if i > 0 {
			seed := lists[0].LocalNode()
			if _, err := l.Join([]string{seed.Name + "/" + seed.Address()}); err != nil {
				c.stop()
				tb.Fatalf("memberlist: %s joining: %v", c.names[i], err)
			}
		}
	}
	// A member learns of the ones that join after it from their alive
	// messages, gossiped a bounded number of times like any broadcast, so
	// it can miss some. The seed learned of every member by its join's
	// push/pull: one more push/pull with it completes every member list.
	seed := lists[0].LocalNode()
	for i := 1; i < n-1; i++ {
		if _, err := lists[i].Join([]string{seed.Name + "/" + seed.Address()}); err != nil {
			c.stop()
			tb.Fatalf("memberlist: %s rejoining: %v", c.names[i], err)
		}
	}
	deadline := time.After(mlJoinDeadline)
	for i, ev := range events {
		select {
		case <-ev.full:
		case <-deadline:
			c.stop()
			tb.Fatalf("memberlist: %s sees %d of %d members after %v", c.names[i], lists[i].NumMembers(), n, mlJoinDeadline)
		}
	}
	c.broadcast = func(root, id int) {
		sys.start(id)
		delegates[root].push(id, mlEncode(id))
	}
	return c
}
