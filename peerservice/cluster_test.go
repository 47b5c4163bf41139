package peerservice_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// clientServer starts servers s1..sS and clients c1..cC on net; every node
// joins s1.
func clientServer(t *testing.T, net *transport.Network, servers, clients int) (ss, cs []*tnode) {
	t.Helper()
	for i := 1; i <= servers; i++ {
		ss = append(ss, startNode(t, net, fmt.Sprintf("s%d", i), csConfig(peerservice.Server), remote.Config{}))
	}
	for i := 1; i <= clients; i++ {
		cs = append(cs, startNode(t, net, fmt.Sprintf("c%d", i), csConfig(peerservice.Client), remote.Config{}))
	}
	for _, s := range ss[1:] {
		syncJoin(t, s, ss[0])
	}
	for _, c := range cs {
		syncJoin(t, c, ss[0])
	}
	return ss, cs
}

func TestClientServerFormation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		ss, cs := clientServer(t, net, 2, 3)
		time.Sleep(5 * hb)
		all := nodeNames(append(ss, cs...)...)
		for _, n := range append(ss, cs...) {
			if got := n.allMembers(t); !reflect.DeepEqual(got, all) {
				t.Errorf("%s knows members %v, want %v", n.name, got, all)
			}
		}
		// As in Partisan, a client's membership is the servers and itself;
		// a server's is everyone.
		for _, n := range ss {
			if got := n.members(t); !reflect.DeepEqual(got, all) {
				t.Errorf("server %s sees members %v, want %v", n.name, got, all)
			}
		}
		for _, c := range cs {
			want := nodeNames(append(ss[:len(ss):len(ss)], c)...)
			if got := c.members(t); !reflect.DeepEqual(got, want) {
				t.Errorf("client %s sees members %v, want %v", c.name, got, want)
			}
		}
		// Clients hold connections to servers only; servers to everyone.
		for _, c := range cs {
			r := c.svc.Remote()
			for _, s := range ss {
				if !r.IsConnected(s.name) {
					t.Errorf("client %s not connected to server %s", c.name, s.name)
				}
			}
			for _, o := range cs {
				if o != c && r.IsConnected(o.name) {
					t.Errorf("client %s connected to client %s", c.name, o.name)
				}
			}
		}
		if !ss[0].svc.Remote().IsConnected("s2") {
			t.Error("servers not connected to each other")
		}
		// Roles travel in the specs.
		specs, err := cs[0].svc.MembersForOrchestration(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range specs {
			want := "client"
			if sp.Name[0] == 's' {
				want = "server"
			}
			if sp.Tags[peerservice.RoleTag] != want {
				t.Errorf("%s has role %q, want %q", sp.Name, sp.Tags[peerservice.RoleTag], want)
			}
		}
	})
}

func TestClientRefusesClientAndRefers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(2)
		ss, cs := clientServer(t, net, 1, 1)
		c2 := startNode(t, net, "c2", csConfig(peerservice.Client), remote.Config{})
		time.Sleep(2 * hb)

		// c2 tries to join through client c1: refused, referred to s1.
		syncJoin(t, c2, cs[0])
		time.Sleep(3 * hb)
		if !c2.svc.Remote().IsConnected("s1") {
			t.Fatal("referred client not connected to the server")
		}
		if c2.svc.Remote().IsConnected("c1") || cs[0].svc.Remote().IsConnected("c2") {
			t.Fatal("client-client connection exists")
		}
		for _, p := range cs[0].svc.Remote().Peers() {
			if p.Name == "c2" {
				t.Fatal("refused connection left a peer behind on c1")
			}
		}
		want := []string{"c1", "c2", "s1"}
		for _, n := range []*tnode{ss[0], cs[0], c2} {
			if got := n.allMembers(t); !reflect.DeepEqual(got, want) {
				t.Errorf("%s sees %v, want %v", n.name, got, want)
			}
		}
		// The raw refusal carries the referral.
		err := c2.svc.Remote().Connect(t.Context(), cs[0].spec())
		var ref *remote.Refusal
		if !errors.As(err, &ref) || ref.Referral.Name != "s1" {
			t.Fatalf("direct connect to a client: %v, want a refusal referring to s1", err)
		}
	})
}

func TestRelayKeepsFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(3)
		_, cs := clientServer(t, net, 2, 2)
		time.Sleep(3 * hb)
		sk := spawnSink(t, cs[1], "inbox")
		net.SetDelay("s1", "c2", time.Millisecond, 5*time.Millisecond)
		const n = 200
		for i := range n {
			if err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("c2", "inbox"), i, peerservice.ForwardOptions{}); err != nil {
				t.Fatalf("forward %d: %v", i, err)
			}
		}
		time.Sleep(hb)
		got := sk.drain()
		if len(got) != n {
			t.Fatalf("got %d messages, want %d", len(got), n)
		}
		for i, m := range got {
			if m != i {
				t.Fatalf("message %d is %v: order broken", i, m)
			}
		}
		if cs[0].svc.Remote().IsConnected("c2") {
			t.Fatal("clients connected directly")
		}
		// By PID too.
		if err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToPID(sk.pid), "by pid", peerservice.ForwardOptions{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(hb) // past the s1 -> c2 delay
		if got := sk.drain(); !reflect.DeepEqual(got, []any{"by pid"}) {
			t.Fatalf("by PID: got %v", got)
		}
		// NoRelay refuses what would take a server.
		err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("c2", "inbox"), "x", peerservice.ForwardOptions{NoRelay: true})
		if !errors.Is(err, peerservice.ErrNotYetConnected) {
			t.Fatalf("NoRelay forward: %v, want ErrNotYetConnected", err)
		}
		// A node nobody knows.
		err = cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("zz", "inbox"), "x", peerservice.ForwardOptions{})
		if !errors.Is(err, peerservice.ErrNotYetConnected) {
			t.Fatalf("forward to an unknown node: %v, want ErrNotYetConnected", err)
		}
	})
}

func TestServerFailureAndReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(4)
		ss, cs := clientServer(t, net, 2, 2)
		time.Sleep(3 * hb)
		var downs, ups recorder
		cs[0].svc.OnDown("s1", downs.fn)
		cs[0].svc.OnUp("", ups.fn)
		sk := spawnSink(t, cs[1], "inbox")

		// A process on c1 monitors one on s1: it must see noconnection.
		target := spawnSink(t, ss[0], "target")
		watcher := spawnSink(t, cs[0], "watcher")
		_ = watcher
		mon, err := cs[0].Spawn(actor.Func(func(p *actor.Process, msg any) error {
			switch m := msg.(type) {
			case string:
				p.Monitor(target.pid)
			case actor.DownMessage:
				_ = p.Send(watcher.pid, m)
			}
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		_ = cs[0].Send(mon, "go")
		synctest.Wait()

		isolated := time.Now()
		net.Isolate("s1")
		time.Sleep(5 * hb)
		events, times := downs.get()
		if len(events) != 1 {
			t.Fatalf("OnDown(s1) fired %d times, want 1", len(events))
		}
		bound := 4 * hb // MissedHeartbeats intervals plus one tick
		if d := times[0].Sub(isolated); d > bound {
			t.Fatalf("OnDown after %v, bound %v", d, bound)
		} else {
			t.Logf("OnDown fired %v after the server was isolated (bound %v)", d, bound)
		}
		select {
		case m := <-watcher.ch:
			down, ok := m.(actor.DownMessage)
			if !ok || !errors.Is(down.Reason, actor.ErrNoConnection) {
				t.Fatalf("monitor got %v, want a DOWN with noconnection", m)
			}
		default:
			t.Fatal("monitor across the failed server did not fire")
		}
		// Clients keep talking, through s2.
		for i := range 10 {
			if err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("c2", "inbox"), i, peerservice.ForwardOptions{}); err != nil {
				t.Fatalf("forward while s1 is down: %v", err)
			}
		}
		time.Sleep(hb)
		if got := len(sk.drain()); got != 10 {
			t.Fatalf("c2 got %d messages through s2, want 10", got)
		}
		// Still a member.
		if got := cs[0].allMembers(t); len(got) != 4 {
			t.Fatalf("members after failure: %v", got)
		}

		// The server comes back and is reconnected without a Join.
		net.Heal()
		time.Sleep(40 * hb)
		if !cs[0].svc.Remote().IsConnected("s1") {
			t.Fatal("s1 not reconnected")
		}
		ups2, _ := ups.get()
		n := 0
		for _, e := range ups2 {
			if e == "s1" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("OnUp events %v: want s1 up once (its return)", ups2)
		}
	})
}

func TestNoServerReachable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(5)
		_, cs := clientServer(t, net, 1, 2)
		time.Sleep(3 * hb)
		net.Isolate("s1")
		time.Sleep(6 * hb)
		err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("c2", "inbox"), "x", peerservice.ForwardOptions{})
		if !errors.Is(err, peerservice.ErrNoServer) {
			t.Fatalf("forward with no server: %v, want ErrNoServer", err)
		}
	})
}

func TestLeaveAndRejoin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(6)
		ss, cs := clientServer(t, net, 2, 2)
		time.Sleep(3 * hb)
		if err := cs[1].svc.Leave(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * hb)
		for _, n := range []*tnode{ss[0], ss[1], cs[0]} {
			if got, want := n.members(t), []string{"c1", "s1", "s2"}; !reflect.DeepEqual(got, want) {
				t.Errorf("after leave %s sees %v, want %v", n.name, got, want)
			}
		}
		if got := cs[1].members(t); !reflect.DeepEqual(got, []string{"c2"}) {
			t.Errorf("the node that left sees %v", got)
		}
		syncJoin(t, cs[1], ss[1])
		time.Sleep(5 * hb)
		all := []string{"c1", "c2", "s1", "s2"}
		for _, n := range append(ss, cs...) {
			if got := n.allMembers(t); !reflect.DeepEqual(got, all) {
				t.Errorf("after rejoin %s sees %v, want %v", n.name, got, all)
			}
		}
		// Removing another node: it is told and leaves.
		if err := ss[0].svc.LeaveNode(t.Context(), "c1"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * hb)
		if got := cs[0].members(t); !reflect.DeepEqual(got, []string{"c1"}) {
			t.Errorf("removed node sees %v", got)
		}
		if got, want := ss[1].members(t), []string{"c2", "s1", "s2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("after LeaveNode s2 sees %v, want %v", got, want)
		}
	})
}

func TestUpdateMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(7)
		var nodes []*tnode
		for i := range 4 {
			nodes = append(nodes, startNode(t, net, fmt.Sprintf("n%d", i), peerservice.Config{HeartbeatInterval: hb}, remote.Config{}))
		}
		specs := []remote.NodeSpec{nodes[1].spec(), nodes[2].spec(), nodes[3].spec()}
		if err := nodes[0].svc.UpdateMembers(t.Context(), specs); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * hb)
		for _, n := range nodes {
			if got := n.members(t); len(got) != 4 {
				t.Errorf("%s sees %v", n.name, got)
			}
		}
		if err := nodes[0].svc.UpdateMembers(t.Context(), specs[:2]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * hb)
		if got, want := nodes[1].members(t), []string{"n0", "n1", "n2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("after shrinking n1 sees %v, want %v", got, want)
		}
	})
}
