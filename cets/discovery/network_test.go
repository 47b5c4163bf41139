package discovery_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// countJoins counts the joins of table with node.
func countJoins(j *fakeJoiner, pair string) int {
	joins, _ := j.get()
	n := 0
	for _, s := range joins {
		if s == pair {
			n++
		}
	}
	return n
}

// After a netsplit discovery finds the node again (30 s after the node
// down) and joins its tables once more.
func TestHealAfterNetsplit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a := startNode(t, net, "a")
		b := startNode(t, net, "b")
		spawnTable(t, a, "t1")
		spawnTable(t, b, "t1")
		j := &fakeJoiner{}
		d := startDisco(t, a.Node, discovery.Config{
			Backend: discovery.Static("a", "b"), Tables: []string{"t1"}, Joiner: j,
			Network: discovery.RemoteNetwork(a.r), InitialPhase: time.Second,
		})
		if err := d.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		before := countJoins(j, "t1:b")
		net.Partition([]string{"a"}, []string{"b"})
		time.Sleep(10 * time.Second) // the net tick (4 s) finds b lost
		si := sysInfo(t, d)
		if slices.Contains(si.ConnectedNodes, "b") || !slices.Contains(si.UnavailableNodes, "b") {
			t.Fatalf("b still connected after the split: %+v", si.ConnectedNodes)
		}
		net.Heal()
		// The next backend call (due RetryRegular after the last one, as
		// in CETS: a node down alone does not bring it forward) connects
		// to b again, and the node-up joins its tables.
		if !si.TimerSet || si.TimerDue.Sub(time.Now()) > 5*time.Minute {
			t.Fatalf("no check due: %+v", si)
		}
		time.Sleep(si.TimerDue.Sub(time.Now()))
		time.Sleep(time.Second)
		si = sysInfo(t, d)
		if !slices.Contains(si.ConnectedNodes, "b") {
			t.Fatalf("b not reconnected: %+v", si)
		}
		if got := countJoins(j, "t1:b"); got <= before {
			t.Fatalf("no join after the heal (%d before, %d after)", before, got)
		}
	})
}

// Discovery reaches nodes through the peer service: it joins the nodes its
// backend lists to the service's cluster, and the peer service backend lists
// the members.
func TestPeerServiceNetworkAndBackend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		start := func(name string) (*actor.Node, *peerservice.Service) {
			n, err := actor.NewNode(actor.Config{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := peerservice.StartNode(n, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name}},
				peerservice.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = svc.Stop(context.Background())
				_ = n.Stop(context.Background())
			})
			return n, svc
		}
		na, sa := start("a")
		nb, sb := start("b")
		for _, n := range []*actor.Node{na, nb} {
			if _, err := n.Spawn(actor.Func(func(*actor.Process, any) error { return nil }), actor.WithName("t1")); err != nil {
				t.Fatal(err)
			}
		}
		ja, jb := &fakeJoiner{}, &fakeJoiner{}
		// a knows b's address from a static list; b learns of a from the
		// membership a's join creates.
		da := startDisco(t, na, discovery.Config{
			Backend: &discovery.StaticBackend{Nodes: []remote.NodeSpec{{Name: "a"}, sb.Myself()}},
			Tables:  []string{"t1"}, Joiner: ja, Network: discovery.PeerServiceNetwork(sa),
		})
		db := startDisco(t, nb, discovery.Config{
			Backend: &discovery.PeerServiceBackend{Service: sb},
			Tables:  []string{"t1"}, Joiner: jb, Network: discovery.PeerServiceNetwork(sb),
		})
		if err := da.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		if err := db.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		members, err := sb.Members(t.Context())
		if err != nil || !reflect.DeepEqual(members, []string{"a", "b"}) {
			t.Fatalf("members %v, %v", members, err)
		}
		if si := sysInfo(t, db); !reflect.DeepEqual(si.Nodes, []string{"a", "b"}) || !reflect.DeepEqual(si.ConnectedNodes, []string{"a"}) {
			t.Fatalf("b's discovery: nodes %v connected %v", si.Nodes, si.ConnectedNodes)
		}
		if countJoins(ja, "t1:b") == 0 || countJoins(jb, "t1:a") == 0 {
			t.Fatal("tables not joined through the peer service")
		}
	})
}
