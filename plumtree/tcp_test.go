package plumtree_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote"
)

// Five nodes over real TCP on loopback: broadcasts reach everyone, and
// after a node in the root's tree dies the survivors still get every
// broadcast (the dead node's subtree grafts through its lazy links).
func TestClusterOverTCP(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	const n = 5
	var nodes []*pnode
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("t%d", i))
	}
	for _, name := range names {
		nd, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := peerservice.StartNode(nd, remote.Config{Cookie: "c", Listen: []string{"127.0.0.1:0"}},
			peerservice.Config{HeartbeatInterval: 50 * time.Millisecond, GossipInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		pn := &pnode{Node: nd, name: name, svc: svc, store: newStore()}
		pn.store.fresh = make(chan any, 1024)
		t.Cleanup(func() {
			if pn.srv != nil {
				_ = pn.srv.Stop(context.Background())
			}
			_ = svc.Stop(context.Background())
			_ = nd.Stop(context.Background())
		})
		nodes = append(nodes, pn)
	}
	// Each node reports the peers its failure detector finds up: wait until
	// every node has every other one, so no broadcast meets a connection
	// still being made (the full mesh forms by gossip after the joins).
	ups := make([]chan string, n)
	for i, nd := range nodes {
		ups[i] = make(chan string, 4*n)
		cancelUp := nd.svc.OnUp("", func(spec remote.NodeSpec) { ups[i] <- spec.Name })
		t.Cleanup(cancelUp)
	}
	for _, nd := range nodes[1:] {
		if err := nd.svc.SyncJoin(ctx, nodes[0].svc.Myself()); err != nil {
			t.Fatal(err)
		}
	}
	for i, nd := range nodes {
		seen := map[string]bool{}
		for len(seen) < n-1 {
			select {
			case name := <-ups[i]:
				seen[name] = true
			case <-ctx.Done():
				t.Fatalf("%s saw only %v up", nd.name, seen)
			}
		}
	}
	for _, nd := range nodes {
		srv, err := plumtree.Start(nd.Node, nd.svc, plumtree.Config{Handlers: []plumtree.Handler{nd.store}, Members: names,
			LazyTickPeriod: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		nd.srv = srv
	}
	await := func(nodes []*pnode, id any) {
		t.Helper()
		for _, nd := range nodes {
			for {
				select {
				case got := <-nd.store.fresh:
					if got != id {
						continue
					}
				case <-ctx.Done():
					t.Fatalf("%s never got %v", nd.name, id)
				}
				break
			}
		}
	}
	root := nodes[0]
	for b := range 20 {
		if err := root.srv.Broadcast([2]any{b, "over tcp"}, "store"); err != nil {
			t.Fatal(err)
		}
		await(nodes[1:], b)
	}
	// Kill an eager peer of the root.
	peers, err := root.srv.GetPeers(ctx, root.name)
	if err != nil || len(peers.Eagers) == 0 {
		t.Fatalf("root peers %+v %v", peers, err)
	}
	var survivors []*pnode
	for _, nd := range nodes[1:] {
		if nd.name == peers.Eagers[0] {
			_ = nd.srv.Stop(ctx)
			_ = nd.svc.Stop(ctx)
			_ = nd.Stop(ctx)
			continue
		}
		survivors = append(survivors, nd)
	}
	for b := 20; b < 30; b++ {
		if err := root.srv.Broadcast([2]any{b, "after a death"}, "store"); err != nil {
			t.Fatal(err)
		}
		await(survivors, b)
	}
}
