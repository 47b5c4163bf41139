package observer_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/observer"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

const hb = time.Second

type member struct {
	node *actor.Node
	svc  *peerservice.Service
	stop func()
}

// startMember starts a full-mesh member on the in-memory network.
func startMember(t *testing.T, net *transport.Network, name string) *member {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := peerservice.StartNode(n, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name}}, peerservice.Config{HeartbeatInterval: hb})
	if err != nil {
		t.Fatal(err)
	}
	m := &member{node: n, svc: svc}
	stopped := false
	m.stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = svc.Stop(context.Background())
		_ = n.Stop(context.Background())
	}
	t.Cleanup(m.stop)
	return m
}

func TestClusterEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(16)
		a, b, c := startMember(t, net, "a"), startMember(t, net, "b"), startMember(t, net, "c")
		for _, m := range []*member{b, c} {
			if err := m.svc.SyncJoin(t.Context(), a.svc.Myself()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(3 * hb)
		h := newHandler(t, a.node, observer.Options{Peers: a.svc, Remote: a.svc.Remote()})
		cl := getJSON[observer.ClusterInfo](t, h, "/api/cluster")
		verdicts := map[string]string{}
		for _, m := range cl.Members {
			verdicts[m.Name] = m.Verdict
			if m.Name != "a" && (!m.Connected || m.Connections[remote.DefaultChannel] < 1) {
				t.Errorf("member %s: connected %v, connections %v", m.Name, m.Connected, m.Connections)
			}
		}
		if !cl.Membership || cl.Self != "a" || verdicts["a"] != "self" || verdicts["b"] != "up" || verdicts["c"] != "up" || len(cl.Members) != 3 {
			t.Errorf("cluster %+v", cl)
		}
		if !slices.Equal(cl.Edges, []observer.Edge{{From: "a", To: "b"}, {From: "a", To: "c"}}) {
			t.Errorf("edges %+v", cl.Edges)
		}
		if cl.Digest == "" || cl.GossipRounds == 0 {
			t.Errorf("stats missing: %+v", cl)
		}
		node := getJSON[observer.NodeInfo](t, h, "/api/node")
		if !node.Distributed || len(node.Peers) != 2 || node.Peers[0].Name != "b" || node.Peers[1].Connections[remote.DefaultChannel] < 1 {
			t.Errorf("node peers %+v", node.Peers)
		}
		// Heartbeats flow both ways: counted per peer, and as rates
		// between two looks.
		if p := node.Peers[0]; p.BytesIn == 0 || p.BytesOut == 0 || p.FramesIn == 0 || p.FramesOut == 0 {
			t.Errorf("peer b's traffic %+v", p)
		}
		time.Sleep(3 * hb)
		if node = getJSON[observer.NodeInfo](t, h, "/api/node"); node.FramesInPerSec <= 0 || node.FramesOutPerSec <= 0 || node.MessagesPerSec <= 0 || node.MessagesHandled == 0 {
			t.Errorf("rates in %v, out %v frames/s, %v messages/s (%d handled)", node.FramesInPerSec, node.FramesOutPerSec, node.MessagesPerSec, node.MessagesHandled)
		}
		trees := getJSON[[]observer.SupervisorTree](t, h, "/api/supervisors")
		if len(trees) != 1 || trees[0].PID != a.svc.Supervisor().String() || len(trees[0].Children) == 0 {
			t.Errorf("the peer service's tree: %+v", trees)
		}

		ref, err := a.svc.InjectPartition(t.Context(), "a", 1)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		cl = getJSON[observer.ClusterInfo](t, h, "/api/cluster")
		if len(cl.Partitions) != 1 || cl.Partitions[0].Ref != ref || cl.Partitions[0].Origin != "a" {
			t.Errorf("partitions %+v, want %s", cl.Partitions, ref)
		}
		if err := a.svc.ResolvePartition(t.Context(), ref); err != nil {
			t.Fatal(err)
		}

		// c dies: the detector's verdict turns and its edge goes.
		c.stop()
		time.Sleep(5 * hb)
		cl = getJSON[observer.ClusterInfo](t, h, "/api/cluster")
		for _, m := range cl.Members {
			if m.Name == "c" && (m.Verdict != "down" || m.Connected) {
				t.Errorf("c after it stopped: %+v", m)
			}
		}
		if slices.Contains(cl.Edges, observer.Edge{From: "a", To: "c"}) {
			t.Errorf("edge to a stopped node: %+v", cl.Edges)
		}
	})
}

// counter is a replicated integer.
type counter struct{ n int64 }

func (c *counter) Command(arg any) any { c.n += arg.(int64); return c.n }
func (c *counter) Query(any) any       { return c.n }
func (c *counter) Snapshot() ([]byte, error) {
	return []byte(strconv.FormatInt(c.n, 10)), nil
}
func (c *counter) Restore(b []byte) (err error) {
	c.n, err = strconv.ParseInt(string(b), 10, 64)
	return err
}

func TestRaftedEndpoint(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		m, err := rafted.Start(t.Context(), n, rafted.Options{NewData: func() rafted.Data { return &counter{} }, Create: &rafted.Config{}, Name: "kv"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rafted.Command(t.Context(), n, m.Server(), int64(2), "req-1"); err != nil {
			t.Fatal(err)
		}
		h := newHandler(t, n, observer.Options{Rafted: []rafted.Server{m.Server(), rafted.ByName(n.Name(), "nobody")}})
		groups := getJSON[[]observer.RaftGroup](t, h, "/api/rafted")
		if len(groups) != 2 {
			t.Fatalf("groups %+v", groups)
		}
		g := groups[0]
		if g.State != "leader" || g.Term < 1 || g.Leader != m.PID.String() || !slices.Equal(g.Members, []string{m.PID.String()}) || g.Error != "" ||
			g.Commit == 0 || g.Applied != g.Commit {
			t.Errorf("group %+v", g)
		}
		if groups[1].Error == "" {
			t.Errorf("a missing member has no error: %+v", groups[1])
		}
	})
}

// The node page shows each peer's round trip on its live connections, as
// the net tick's probes measure it, beside the handshake's.
func TestNodePeersShowLiveRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(17)
		start := func(name string) *member {
			n, err := actor.NewNode(actor.Config{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := peerservice.StartNode(n, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name}, NetTickTime: 4 * time.Second},
				peerservice.Config{HeartbeatInterval: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = svc.Stop(context.Background())
				_ = n.Stop(context.Background())
			})
			return &member{node: n, svc: svc}
		}
		a, b := start("a"), start("b")
		if err := b.svc.SyncJoin(t.Context(), a.svc.Myself()); err != nil {
			t.Fatal(err)
		}
		net.SetDelay("a", "b", 15*time.Millisecond, 0)
		net.SetDelay("b", "a", 15*time.Millisecond, 0)
		time.Sleep(2 * time.Second) // two probe intervals (a quarter of the net tick time each)
		synctest.Wait()
		h := newHandler(t, a.node, observer.Options{Peers: a.svc, Remote: a.svc.Remote()})
		node := getJSON[observer.NodeInfo](t, h, "/api/node")
		if len(node.Peers) != 1 || node.Peers[0].LiveRTTSeconds != 0.03 {
			t.Fatalf("peers %+v, want b with a live round trip of 30 ms", node.Peers)
		}
	})
}
