package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// psNode is a node with its peer service.
type psNode struct {
	node *actor.Node
	svc  *peerservice.Service
}

func (n *psNode) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = n.svc.Stop(ctx)
	_ = n.node.Stop(ctx)
}

// startPS starts a peer-service node; net nil means loopback TCP.
func startPS(tb testing.TB, net *transport.Network, name string, cfg peerservice.Config) *psNode {
	tb.Helper()
	n, err := actor.NewNode(actor.Config{Name: name, Logger: discard})
	if err != nil {
		tb.Fatal(err)
	}
	rcfg := remote.Config{Cookie: "bench", Logger: discard}
	if net != nil {
		rcfg.Transport = net.Transport(name)
		rcfg.Listen = []string{name}
	}
	cfg.Logger = discard
	svc, err := peerservice.StartNode(n, rcfg, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &psNode{node: n, svc: svc}
}

const psInterval = 100 * time.Millisecond

func csConfig(role peerservice.Role) peerservice.Config {
	return peerservice.Config{
		Topology: peerservice.ClientServer, Role: role,
		HeartbeatInterval: psInterval, GossipInterval: psInterval, MissedHeartbeats: 3,
	}
}

// convergeCluster starts servers+clients nodes on an in-memory network, lets
// them all join at once, and returns how long it took until every node's
// membership held everyone, plus the gossip rounds node 0 made meanwhile.
func convergeCluster(tb testing.TB, servers, clients int) (time.Duration, int, func()) {
	net := transport.NewNetwork(1)
	total := servers + clients
	var nodes []*psNode
	for i := range servers {
		nodes = append(nodes, startPS(tb, net, fmt.Sprintf("s%03d", i), csConfig(peerservice.Server)))
	}
	for i := range clients {
		nodes = append(nodes, startPS(tb, net, fmt.Sprintf("c%03d", i), csConfig(peerservice.Client)))
	}
	stopAll := func() {
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(n.stop)
		}
		wg.Wait()
	}
	var all sync.WaitGroup
	all.Add(total)
	for _, n := range nodes {
		var once sync.Once
		n.svc.Subscribe(func(e peerservice.MembershipEvent) {
			if len(e.Members) == total {
				once.Do(all.Done)
			}
		})
	}
	before, _ := nodes[0].svc.Stats(context.Background())
	start := time.Now()
	for i, n := range nodes[1:] {
		seed := nodes[0]
		if i >= servers-1 {
			seed = nodes[i%servers]
		}
		if err := n.svc.Join(seed.svc.Myself()); err != nil {
			tb.Fatal(err)
		}
	}
	all.Wait()
	took := time.Since(start)
	after, _ := nodes[0].svc.Stats(context.Background())
	return took, after.GossipRounds - before.GossipRounds, stopAll
}

// BenchmarkMembershipConvergence: N nodes (a client-server cluster on the
// in-memory network, heartbeat and gossip every 100 ms) join at once; the op
// ends when every node's membership holds all N.
func BenchmarkMembershipConvergence(b *testing.B) {
	for _, size := range []struct{ servers, clients int }{{2, 8}, {4, 46}, {8, 192}} {
		total := size.servers + size.clients
		b.Run(fmt.Sprintf("nodes=%d", total), func(b *testing.B) {
			var took time.Duration
			var rounds int
			for b.Loop() {
				d, r, stop := convergeCluster(b, size.servers, size.clients)
				took += d
				rounds += r
				b.StopTimer()
				stop()
				b.StartTimer()
			}
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/converge")
			b.ReportMetric(float64(rounds)/float64(b.N), "gossip-rounds")
		})
	}
}

// BenchmarkFailureDetection: a three-server cluster on the in-memory network
// with a 100 ms heartbeat and 3 missed beats; the op isolates one node and
// ends when another declares it down (the heal and reconnect are untimed).
func BenchmarkFailureDetection(b *testing.B) {
	net := transport.NewNetwork(1)
	cfg := peerservice.Config{HeartbeatInterval: psInterval, GossipInterval: psInterval, MissedHeartbeats: 3}
	a, c, d := startPS(b, net, "a", cfg), startPS(b, net, "c", cfg), startPS(b, net, "d", cfg)
	defer func() { a.stop(); c.stop(); d.stop() }()
	ctx := context.Background()
	downs, ups := make(chan struct{}, 16), make(chan struct{}, 16)
	a.svc.OnDown("d", func(remote.NodeSpec) { downs <- struct{}{} })
	a.svc.OnUp("d", func(remote.NodeSpec) { ups <- struct{}{} })
	for _, n := range []*psNode{c, d} {
		if err := n.svc.SyncJoin(ctx, a.svc.Myself()); err != nil {
			b.Fatal(err)
		}
	}
	// a watches d's heartbeats from the moment it reports d up.
	<-ups
	for b.Loop() {
		net.Isolate("d")
		<-downs
		b.StopTimer()
		net.Heal()
		<-ups
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/detect")
}

// relayHarness: over loopback TCP, one server and two clients; a process on
// c1 sends to a process on s1 (direct) or on c2 (relayed through s1).
func relayHarness(tb testing.TB, relayed bool) harness {
	// Default (1 s) heartbeats: they share the connections with the flood
	// measured here, and 100 ms ones can queue behind it long enough to be
	// missed.
	cfg := func(role peerservice.Role) peerservice.Config {
		return peerservice.Config{Topology: peerservice.ClientServer, Role: role}
	}
	downs := make(chan string, 8)
	s1 := startPS(tb, nil, "s1", cfg(peerservice.Server))
	c1 := startPS(tb, nil, "c1", cfg(peerservice.Client))
	c2 := startPS(tb, nil, "c2", cfg(peerservice.Client))
	var mu sync.Mutex
	var lost []string // connection losses the remote layers saw, for a failure message
	for _, n := range []*psNode{s1, c1, c2} {
		n.svc.OnDown("", func(s remote.NodeSpec) { downs <- s.Name })
		name := n.node.Name()
		n.svc.Remote().Subscribe(func(e remote.Event) {
			if e.Kind == remote.PeerDown {
				mu.Lock()
				lost = append(lost, fmt.Sprintf("%s lost %s: %v", name, e.Peer.Name, e.Reason))
				mu.Unlock()
			}
		})
	}
	ctx := context.Background()
	for _, n := range []*psNode{c1, c2} {
		if err := n.svc.SyncJoin(ctx, s1.svc.Myself()); err != nil {
			tb.Fatal(err)
		}
	}
	dst := s1
	if relayed {
		dst = c2
	}
	got := make(chan struct{}, 1)
	var want, count int
	var received atomic.Int64
	rcv, err := dst.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		count++
		received.Store(int64(count))
		if count == want {
			got <- struct{}{}
		}
		return nil
	}))
	if err != nil {
		tb.Fatal(err)
	}
	payload := make([]byte, 64)
	return harness{
		run: func(n int) {
			want, count = n, 0
			done := make(chan struct{})
			sender, err := c1.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
				for range n {
					for err := p.Send(rcv, payload); err != nil; err = p.Send(rcv, payload) {
						if !errors.Is(err, remote.ErrSendQueueFull) {
							panic(err)
						}
						// A full send queue: let the writer drain it.
						runtime.Gosched()
					}
				}
				close(done)
				return actor.Normal
			}))
			if err != nil {
				tb.Fatal(err)
			}
			_ = c1.node.Send(sender, "go")
			<-done
			select {
			case <-got:
			case name := <-downs:
				tb.Fatalf("%s declared down during the run", name)
			case <-time.After(30 * time.Second):
				mu.Lock()
				defer mu.Unlock()
				tb.Fatalf("receiver still waiting for messages after 30s: %d of %d arrived (relayed: %v); connections lost: %v",
					received.Load(), want, relayed, lost)
			}
		},
		stop: func() { c1.stop(); c2.stop(); s1.stop() },
	}
}

// BenchmarkRelayedVsDirect: 64-byte messages from one process to another
// across loopback TCP, directly (client to server) or relayed (client to
// client through the server).
func BenchmarkRelayedVsDirect(b *testing.B) {
	b.Run("direct", func(b *testing.B) { runHarness(b, relayHarness(b, false), 1, "msgs/s") })
	b.Run("relayed", func(b *testing.B) { runHarness(b, relayHarness(b, true), 1, "msgs/s") })
}

func TestPeerServiceBenchSmoke(t *testing.T) {
	took, _, stop := convergeCluster(t, 2, 3)
	stop()
	if took <= 0 {
		t.Fatal("no convergence time")
	}
	for _, relayed := range []bool{false, true} {
		h := relayHarness(t, relayed)
		h.run(500)
		h.stop()
	}
}
