package peerservice_test

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/gotp-dev/gotp/actor"
	"reflect"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

func fullMesh(t *testing.T, net *transport.Network, n int, rcfg remote.Config) []*tnode {
	t.Helper()
	var nodes []*tnode
	for i := range n {
		nodes = append(nodes, startNode(t, net, fmt.Sprintf("n%d", i), peerservice.Config{HeartbeatInterval: hb}, rcfg))
	}
	for _, nd := range nodes[1:] {
		syncJoin(t, nd, nodes[0])
	}
	return nodes
}

func TestPartitionInjectResolve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(8)
		nodes := fullMesh(t, net, 3, remote.Config{})
		time.Sleep(3 * hb)
		var downs recorder
		for _, n := range nodes {
			n.svc.OnDown("", downs.fn)
		}
		sinks := []*sink{spawnSink(t, nodes[0], "inbox"), spawnSink(t, nodes[1], "inbox"), spawnSink(t, nodes[2], "inbox")}
		ref, err := nodes[0].svc.InjectPartition(t.Context(), "n0", 1)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		send := func(from, to int) error {
			return nodes[from].svc.ForwardMessage(t.Context(), peerservice.ToName(fmt.Sprintf("n%d", to), "inbox"), "hi", peerservice.ForwardOptions{})
		}
		tests := []struct {
			from, to int
			cut      bool
		}{{0, 1, true}, {0, 2, true}, {1, 0, true}, {2, 0, true}, {1, 2, false}, {2, 1, false}}
		for _, tt := range tests {
			err := send(tt.from, tt.to)
			if tt.cut != errors.Is(err, peerservice.ErrPartitioned) || (!tt.cut && err != nil) {
				t.Errorf("n%d -> n%d: %v (cut: %v)", tt.from, tt.to, err, tt.cut)
			}
		}
		if err := nodes[1].svc.CastMessage(t.Context(), actorName("n0", "inbox"), "x"); !errors.Is(err, peerservice.ErrPartitioned) {
			t.Errorf("cast across the partition: %v", err)
		}
		// Plain actor sends and calls are application traffic too.
		if err := nodes[1].Send(actorName("n0", "inbox"), "plain"); !errors.Is(err, peerservice.ErrPartitioned) {
			t.Errorf("plain send across the partition: %v", err)
		}
		if _, err := nodes[2].Call(t.Context(), actorName("n0", "inbox"), "call"); !errors.Is(err, peerservice.ErrPartitioned) {
			t.Errorf("call across the partition: %v", err)
		}
		if err := nodes[1].Send(actorName("n2", "inbox"), "plain"); err != nil {
			t.Errorf("plain send on the same side: %v", err)
		}
		for _, n := range nodes {
			ps, err := n.svc.Partitions(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if want := []peerservice.Partition{{Ref: ref, Origin: "n0"}}; !reflect.DeepEqual(ps, want) {
				t.Errorf("%s holds partitions %v, want %v", n.name, ps, want)
			}
		}
		// Membership traffic is not cut: nobody fails.
		time.Sleep(10 * hb)
		if ev, _ := downs.get(); len(ev) != 0 {
			t.Fatalf("OnDown fired under an injected partition: %v", ev)
		}
		if err := nodes[2].svc.ResolvePartition(t.Context(), ref); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		for _, tt := range tests {
			if err := send(tt.from, tt.to); err != nil {
				t.Errorf("after resolve n%d -> n%d: %v", tt.from, tt.to, err)
			}
		}
		time.Sleep(hb)
		if got := len(sinks[0].drain()); got != 2 {
			t.Errorf("n0 got %d messages after resolve, want 2", got)
		}
		if got := len(sinks[2].drain()); got != 4 {
			t.Errorf("n2 got %d messages, want 4 (a forward and a plain send under the partition, two after resolve)", got)
		}
		if err := nodes[2].svc.ResolvePartition(t.Context(), ref); !errors.Is(err, peerservice.ErrUnknownPartition) {
			t.Errorf("resolving twice: %v", err)
		}
		// Injected from another node: the origin starts the spread.
		ref2, err := nodes[1].svc.InjectPartition(t.Context(), "n2", 1)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := send(0, 2); !errors.Is(err, peerservice.ErrPartitioned) {
			t.Errorf("n0 -> n2 under %s: %v", ref2, err)
		}
	})
}

func TestAckedForwardSurvivesDroppedFrames(t *testing.T) {
	tests := []struct {
		name     string
		start    func(t *testing.T, net *transport.Network) (from, to *tnode)
		dropFrom string // the hop on which the message's first frame is lost
	}{
		{"full-mesh", func(t *testing.T, net *transport.Network) (*tnode, *tnode) {
			nodes := fullMesh(t, net, 2, remote.Config{})
			return nodes[0], nodes[1]
		}, "n0"},
		{"client-server-relayed", func(t *testing.T, net *transport.Network) (*tnode, *tnode) {
			_, cs := clientServer(t, net, 1, 2)
			return cs[0], cs[1]
		}, "s1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := transport.NewNetwork(9)
				from, to := tt.start(t, net)
				time.Sleep(3 * hb)
				sk := spawnSink(t, to, "inbox")
				// Drop the first frame of the message and the first ack, so
				// that the message is sent three times and arrives twice.
				var msgDrops, ackDrops atomic.Int32
				net.SetHook(func(src, dst string, frame []byte) ([]byte, bool) {
					if src == tt.dropFrom && bytes.Contains(frame, []byte("precious")) && msgDrops.Add(1) == 1 {
						return nil, false
					}
					if src == to.name && bytes.Contains(frame, []byte("gotp.peerservice.ack")) && ackDrops.Add(1) == 1 {
						return nil, false
					}
					return frame, true
				})
				err := from.svc.ForwardMessage(t.Context(), peerservice.ToName(to.name, "inbox"), "precious", peerservice.ForwardOptions{Ack: true})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(10 * hb)
				got := sk.drain()
				if !reflect.DeepEqual(got, []any{"precious"}) {
					t.Fatalf("delivered %v, want exactly one", got)
				}
				if msgDrops.Load() < 3 || ackDrops.Load() < 2 {
					t.Fatalf("message seen %d times, acked %d times: retransmission did not happen", msgDrops.Load(), ackDrops.Load())
				}
				st, err := from.svc.Stats(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if st.PendingAcks != 0 {
					t.Fatalf("%d forwards still waiting for an ack", st.PendingAcks)
				}
			})
		})
	}
}

func TestChannelParallelism(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(10)
		rcfg := remote.Config{Channels: []remote.Channel{
			{Name: remote.DefaultChannel, Parallelism: 2},
			{Name: "bulk", Parallelism: 4},
			{Name: "gossip", Parallelism: 1, Monotonic: true},
		}}
		nodes := fullMesh(t, net, 3, rcfg)
		want := map[string]int{remote.DefaultChannel: 2, "bulk": 4, "gossip": 1}
		// SyncJoin returned: the joiner has every connection to the node it joined.
		for _, n := range nodes[1:] {
			for ch, p := range want {
				if got := n.svc.Remote().ConnectionCount("n0", ch); got != p {
					t.Errorf("%s -> n0 channel %s: %d connections after SyncJoin, want %d", n.name, ch, got, p)
				}
			}
		}
		time.Sleep(3 * hb) // n1 learns of n2 through n0
		sk := spawnSink(t, nodes[2], "inbox")
		for i := range 20 {
			err := nodes[1].svc.ForwardMessage(t.Context(), peerservice.ToName("n2", "inbox"), i,
				peerservice.ForwardOptions{Channel: "bulk", PartitionKey: fmt.Sprint(i % 4)})
			if err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(3 * hb)
		if got := len(sk.drain()); got != 20 {
			t.Fatalf("got %d on the bulk channel, want 20", got)
		}
		if got := nodes[1].svc.Remote().ConnectionCount("n2", "bulk"); got != 4 {
			t.Fatalf("bulk connections n1 -> n2: %d, want 4", got)
		}
		if !nodes[0].svc.SupportsCapability(peerservice.CapMonotonicChannels) {
			t.Fatal("monotonic channels not reported")
		}
	})
}

func TestPersistenceRestore(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(11)
		a := startNode(t, net, "a", peerservice.Config{HeartbeatInterval: hb, DataDir: dir}, remote.Config{})
		b := startNode(t, net, "b", peerservice.Config{HeartbeatInterval: hb}, remote.Config{})
		c := startNode(t, net, "c", peerservice.Config{HeartbeatInterval: hb}, remote.Config{})
		syncJoin(t, b, a)
		syncJoin(t, c, a)
		time.Sleep(3 * hb)
		a.stop()
		time.Sleep(5 * hb)
		// a comes back from its data directory and finds b and c itself.
		a2 := startNode(t, net, "a", peerservice.Config{HeartbeatInterval: hb, DataDir: dir}, remote.Config{})
		if got := a2.members(t); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
			t.Fatalf("restored members %v", got)
		}
		time.Sleep(20 * hb)
		if !a2.svc.Remote().IsConnected("b") || !a2.svc.Remote().IsConnected("c") {
			t.Fatal("restored node did not reconnect")
		}
		for _, n := range []*tnode{b, c} {
			if got := n.members(t); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
				t.Errorf("%s sees %v", n.name, got)
			}
		}
		if !a2.svc.SupportsCapability(peerservice.CapPersistence) {
			t.Error("persistence not reported")
		}
	})
}

func TestReserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(12)
		n := startNode(t, net, "a", peerservice.Config{Reservations: map[string]int{"ring": 2}}, remote.Config{})
		tests := []struct {
			tag     string
			wantErr bool
		}{{"ring", false}, {"ring", false}, {"ring", true}, {"other", true}}
		for i, tt := range tests {
			err := n.svc.Reserve(t.Context(), tt.tag)
			if tt.wantErr != errors.Is(err, peerservice.ErrNoAvailableSlots) || (!tt.wantErr && err != nil) {
				t.Errorf("reserve %d (%s): %v", i, tt.tag, err)
			}
		}
	})
}

func TestSendMessageAndSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(13)
		got := make(chan string, 4)
		a := startNode(t, net, "a", peerservice.Config{HeartbeatInterval: hb}, remote.Config{})
		b := startNode(t, net, "b", peerservice.Config{HeartbeatInterval: hb, OnMessage: func(from string, msg any) {
			got <- fmt.Sprintf("%s:%v", from, msg)
		}}, remote.Config{})
		events := make(chan peerservice.MembershipEvent, 16)
		cancel := b.svc.Subscribe(func(e peerservice.MembershipEvent) { events <- e })
		defer cancel()
		watcher := spawnSink(t, a, "watcher")
		defer a.svc.Watch(watcher.pid)()
		syncJoin(t, a, b)
		time.Sleep(2 * hb)
		if err := a.svc.SendMessage(t.Context(), "b", "hello"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if m := <-got; m != "a:hello" {
			t.Fatalf("OnMessage got %q", m)
		}
		var last peerservice.MembershipEvent
		for len(events) > 0 {
			last = <-events
		}
		if len(last.Members) != 2 {
			t.Fatalf("last membership event %v", last)
		}
		var watched []any
		for _, m := range watcher.drain() {
			if e, ok := m.(peerservice.MembershipEvent); ok && len(e.Members) == 2 {
				watched = append(watched, m)
			}
		}
		if len(watched) == 0 {
			t.Fatal("watching process got no membership event")
		}
	})
}

type castSink struct{ got chan any }

func (c *castSink) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return req, nil
}
func (c *castSink) HandleCast(p *actor.Process, msg any) error {
	c.got <- msg
	return nil
}

func TestCastMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(16)
		_, cs := clientServer(t, net, 1, 2)
		time.Sleep(3 * hb)
		srv := &castSink{got: make(chan any, 1)}
		if _, err := cs[1].Spawn(actor.Server(srv), actor.WithName("kv")); err != nil {
			t.Fatal(err)
		}
		if err := cs[0].svc.CastMessage(t.Context(), actorName("c2", "kv"), "put"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		select {
		case m := <-srv.got:
			if m != "put" {
				t.Fatalf("cast delivered %v", m)
			}
		default:
			t.Fatal("cast through the server did not arrive")
		}
	})
}
