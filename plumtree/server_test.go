package plumtree_test

import (
	"bytes"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote/transport"
)

func TestCluster50Broadcasts(t *testing.T) {
	if testing.Short() {
		t.Skip("50-node cluster under -short")
	}
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		nodes := bareCluster(t, net, 50, plumtree.Config{})
		roots := []*pnode{nodes[0], nodes[17], nodes[33], nodes[49]}
		sent := map[string]int{}
		// Broadcasts fall between lazy ticks: on the fake clock and a
		// network without latency a tick at the very instant of a broadcast
		// announces it before the eager push lands, and the graft that
		// follows is a duplicate no real network would see that often.
		time.Sleep(50 * time.Millisecond)
		for b := range 100 {
			root := roots[b%len(roots)]
			before := totalArrivals(nodes)
			id := fmt.Sprintf("m%03d", b)
			if err := root.srv.Broadcast([2]any{id, "payload " + id}, "store"); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if got := reach(nodes, id); got != len(nodes) {
				t.Fatalf("broadcast %d from %s reached %d of %d nodes", b, root.name, got, len(nodes))
			}
			payloads := totalArrivals(nodes) - before
			rmr := float64(payloads)/float64(len(nodes)-1) - 1
			sent[root.name]++
			if sent[root.name] >= 3 && rmr > 0.05 {
				t.Errorf("broadcast %d (the %dth from %s): RMR %.3f, want <= 0.05", b, sent[root.name], root.name, rmr)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The trees of the roots are spanning trees: every node has an
		// eager path, and the debug view sees every node up.
		tree := nodes[0].srv.DebugGetTree(t.Context(), roots[1].name, []string{"n00", "n01", "n48"})
		for _, e := range tree {
			if e.Down || len(e.Peers.Eagers) == 0 {
				t.Errorf("tree entry %+v", e)
			}
		}
	})
}

func TestGraftRepairsDroppedEagerLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(2)
		nodes := cluster(t, net, 12, plumtree.Config{})
		root := nodes[0]
		for b := range 3 {
			if err := root.srv.Broadcast([2]any{b, "warm"}, "store"); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		peers, err := root.srv.GetPeers(t.Context(), root.name)
		if err != nil {
			t.Fatal(err)
		}
		if len(peers.Eagers) == 0 {
			t.Fatal("root has no eager peers")
		}
		child := peers.Eagers[0]
		// The eager link from the root to child loses the payload.
		net.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
			return frame, !(from == root.name && to == child && bytes.Contains(frame, []byte("lost on the way")))
		})
		start := time.Now()
		if err := root.srv.Broadcast([2]any{"cut", "lost on the way"}, "store"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := reach(nodes, "cut"); got == len(nodes) {
			t.Fatal("the dropped payload reached everyone anyway")
		}
		// Within one lazy tick the lazy links announce it and the missing
		// nodes graft it.
		time.Sleep(time.Second)
		synctest.Wait()
		if got := reach(nodes, "cut"); got != len(nodes) {
			t.Fatalf("%v after the cut %d of %d nodes have the message", time.Since(start), got, len(nodes))
		}
	})
}

func TestAntiEntropyHealsPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(3)
		// Lazy pushes are out of the way: only exchanges can repair.
		nodes := cluster(t, net, 8, plumtree.Config{LazyTickPeriod: time.Hour, ExchangeTickPeriod: 10 * time.Second})
		var names []string
		for _, nd := range nodes[:7] {
			names = append(names, nd.name)
		}
		lone := nodes[7]
		net.Partition(names, []string{lone.name})
		for b := range 5 {
			if err := nodes[b].srv.Broadcast([2]any{fmt.Sprint("p", b), "during the partition"}, "store"); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		for b := range 5 {
			if lone.store.has(fmt.Sprint("p", b)) {
				t.Fatal("a broadcast crossed the partition")
			}
		}
		time.Sleep(3 * time.Second)
		net.Heal()
		healed := time.Now()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		for b := range 5 {
			if !lone.store.has(fmt.Sprint("p", b)) {
				t.Fatalf("%v after the heal the lone node misses p%d", time.Since(healed), b)
			}
		}
	})
}
