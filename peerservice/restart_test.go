package peerservice_test

import (
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// A server that is stopped and started again (a new incarnation that
// remembers nothing) is found by the clients' probes and rejoins on its own.
func TestServerKilledAndRestarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(14)
		ss, cs := clientServer(t, net, 2, 2)
		time.Sleep(3 * hb)
		var downs, ups recorder
		cs[0].svc.OnDown("s1", downs.fn)
		cs[0].svc.OnUp("s1", ups.fn)
		sk := spawnSink(t, cs[1], "inbox")

		killed := time.Now()
		ss[0].stop()
		time.Sleep(5 * hb)
		if ev, times := downs.get(); len(ev) != 1 || times[0].Sub(killed) > 4*hb {
			t.Fatalf("OnDown(s1): %v at %v, want once within %v", ev, times, 4*hb)
		}
		if err := cs[0].svc.ForwardMessage(t.Context(), peerservice.ToName("c2", "inbox"), "via s2", peerservice.ForwardOptions{}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := sk.drain(); !reflect.DeepEqual(got, []any{"via s2"}) {
			t.Fatalf("c2 got %v", got)
		}

		s1 := startNode(t, net, "s1", csConfig(peerservice.Server), remote.Config{})
		time.Sleep(40 * hb)
		if ev, _ := ups.get(); len(ev) != 1 {
			t.Fatalf("OnUp(s1) fired %d times after the restart, want 1", len(ev))
		}
		want := []string{"c1", "c2", "s1", "s2"}
		for _, n := range []*tnode{s1, ss[1], cs[0], cs[1]} {
			if got := n.allMembers(t); !reflect.DeepEqual(got, want) {
				t.Errorf("%s sees %v, want %v", n.name, got, want)
			}
		}
		if !s1.svc.Remote().IsConnected("s2") || !s1.svc.Remote().IsConnected("c1") {
			t.Fatalf("restarted s1 has peers %v", s1.svc.Remote().Peers())
		}
	})
}

// Full mesh: a member that stops is detected by every other, its links fire
// noconnection, and it stays a member.
func TestFullMeshFailureDetection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(15)
		nodes := fullMesh(t, net, 4, remote.Config{})
		time.Sleep(3 * hb)
		var downs recorder
		for _, n := range nodes[:3] {
			n.svc.OnDown("n3", downs.fn)
		}
		victim := spawnSink(t, nodes[3], "victim")
		exits := make(chan error, 1)
		_, err := nodes[0].Spawn(actor.Func(func(p *actor.Process, msg any) error {
			switch m := msg.(type) {
			case string:
				_ = p.Link(victim.pid)
			case actor.ExitMessage:
				exits <- m.Reason
			}
			return nil
		}), actor.WithTrapExit(), actor.WithName("linker"))
		if err != nil {
			t.Fatal(err)
		}
		_ = nodes[0].Send(actor.Name{Name: "linker"}, "link")
		synctest.Wait()
		net.Isolate("n3")
		start := time.Now()
		time.Sleep(5 * hb)
		ev, times := downs.get()
		if len(ev) != 3 {
			t.Fatalf("OnDown(n3) fired %d times, want 3 (once per survivor)", len(ev))
		}
		for _, at := range times {
			if at.Sub(start) > 4*hb {
				t.Fatalf("OnDown after %v", at.Sub(start))
			}
		}
		select {
		case reason := <-exits:
			if reason == nil || !isNoConnection(reason) {
				t.Fatalf("link fired with %v, want noconnection", reason)
			}
		default:
			t.Fatal("link across the failed node did not fire")
		}
		if got := nodes[0].members(t); len(got) != 4 {
			t.Fatalf("failed node dropped from membership: %v", got)
		}
		net.Heal()
		time.Sleep(40 * hb)
		for _, n := range nodes[:3] {
			if !n.svc.Remote().IsConnected("n3") {
				t.Errorf("%s did not reconnect to n3", n.name)
			}
		}
	})
}

// The manager process is supervised: killed, it is restarted under the same
// name and gets membership back from its peers' gossip.
func TestManagerRestartedBySupervisor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(17)
		nodes := fullMesh(t, net, 3, remote.Config{})
		time.Sleep(3 * hb)
		old, ok := nodes[1].WhereIs(peerservice.ManagerName)
		if !ok {
			t.Fatal("manager not registered")
		}
		if err := nodes[1].Exit(old, actor.Kill); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		now, ok := nodes[1].WhereIs(peerservice.ManagerName)
		if !ok || now == old {
			t.Fatalf("manager not restarted (old %v, now %v, registered %v)", old, now, ok)
		}
		time.Sleep(3 * hb)
		if got, want := nodes[1].members(t), []string{"n0", "n1", "n2"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("restarted manager sees %v, want %v", got, want)
		}
	})
}
