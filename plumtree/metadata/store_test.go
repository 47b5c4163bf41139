package metadata_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/plumtree/metadata"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

type mnode struct {
	name  string
	store *metadata.Store
}

// stores starts n nodes on net, each with a store bound to a broadcast
// server; nodes find each other by name, and the membership is given.
func stores(t *testing.T, net *transport.Network, n int, pcfg plumtree.Config, mcfg func(name string) metadata.Config) []mnode {
	t.Helper()
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("m%d", i))
	}
	var out []mnode
	for _, name := range names {
		nd, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		r, err := remote.Start(nd, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name},
			Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		var c metadata.Config
		if mcfg != nil {
			c = mcfg(name)
		}
		st, err := metadata.Start(nd, c)
		if err != nil {
			t.Fatal(err)
		}
		cfg := pcfg
		cfg.Handlers = []plumtree.Handler{st}
		cfg.Members = names
		cfg.NoMembershipUpdates = true
		srv, err := plumtree.Start(nd, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		st.Bind(srv)
		t.Cleanup(func() {
			_ = srv.Stop(context.Background())
			_ = st.Stop(context.Background())
			r.Stop()
			_ = nd.Stop(context.Background())
		})
		out = append(out, mnode{name: name, store: st})
	}
	return out
}

func wantEverywhere(t *testing.T, nodes []mnode, key, value string) {
	t.Helper()
	for _, n := range nodes {
		got, ok := n.store.Get(key)
		if value == "" {
			if ok {
				t.Fatalf("%s still has %s = %q", n.name, key, got)
			}
			continue
		}
		if !ok || string(got) != value {
			t.Fatalf("%s has %s = %q (%v), want %q", n.name, key, got, ok, value)
		}
	}
}

func TestPutGetDeleteReplicate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nodes := stores(t, transport.NewNetwork(1), 6, plumtree.Config{}, nil)
		if err := nodes[0].store.Put("a", []byte("1")); err != nil {
			t.Fatal(err)
		}
		if err := nodes[3].store.Put("b", []byte("2")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantEverywhere(t, nodes, "a", "1")
		wantEverywhere(t, nodes, "b", "2")
		// A later write anywhere wins everywhere.
		time.Sleep(time.Millisecond)
		if err := nodes[5].store.Put("a", []byte("3")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantEverywhere(t, nodes, "a", "3")
		if err := nodes[2].store.Delete("b"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		wantEverywhere(t, nodes, "b", "")
		if got := nodes[4].store.Keys(); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("keys %v", got)
		}
	})
}

func TestConcurrentWritesConverge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Every node's physical clock reads the same instant: only the
		// logical counters and the node names order the writes.
		frozen := time.Unix(1_800_000_000, 0)
		nodes := stores(t, transport.NewNetwork(2), 5, plumtree.Config{},
			func(string) metadata.Config { return metadata.Config{Now: func() time.Time { return frozen }} })
		for _, n := range nodes {
			if err := n.store.Put("k", []byte(n.name)); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		first, _ := nodes[0].store.Get("k")
		wantEverywhere(t, nodes, "k", string(first))
		// A write made after seeing the winner beats it, though the clock
		// has not moved. (The losing writes pruned some eager links, as
		// stale messages do, so the lazy tick may be needed.)
		if err := nodes[0].store.Put("k", []byte("after")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		wantEverywhere(t, nodes, "k", "after")
	})
}

func TestExchangeRepairsPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(3)
		// Lazy announcements out of the way: only the exchange repairs.
		nodes := stores(t, net, 4, plumtree.Config{LazyTickPeriod: time.Hour, ExchangeTickPeriod: 5 * time.Second}, nil)
		net.Partition([]string{"m0", "m1", "m2"}, []string{"m3"})
		if err := nodes[0].store.Put("during", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := nodes[3].store.Put("lonely", []byte("y")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if _, ok := nodes[3].store.Get("during"); ok {
			t.Fatal("a write crossed the partition")
		}
		time.Sleep(2 * time.Second)
		net.Heal()
		// Within one exchange tick the lone node swaps entries with one of
		// the others; a second one spreads its write to the rest.
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if v, ok := nodes[3].store.Get("during"); !ok || string(v) != "x" {
			t.Fatal("the exchange did not repair the lone node")
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		wantEverywhere(t, nodes, "lonely", "y")
	})
}

func TestNotBoundAndBadInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nd, err := actor.NewNode(actor.Config{Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		defer nd.Stop(context.Background())
		st, err := metadata.Start(nd, metadata.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put("k", nil); !errors.Is(err, metadata.ErrNotBound) {
			t.Fatalf("put without a server: %v", err)
		}
		if _, _, err := st.BroadcastData("not an update"); err == nil {
			t.Fatal("broadcast of a non-update")
		}
		if st.Merge(1, "junk") {
			t.Fatal("merged junk")
		}
		if _, err := st.Graft(metadata.MessageID{Key: "none"}); err == nil {
			t.Fatal("graft of a missing write")
		}
		if _, err := metadata.Start(nd, metadata.Config{ExchangeTimeout: -1}); !errors.Is(err, metadata.ErrInvalidConfig) {
			t.Fatalf("bad config: %v", err)
		}
	})
}

func TestGraftAndStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nd, err := actor.NewNode(actor.Config{Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		defer nd.Stop(context.Background())
		st, err := metadata.Start(nd, metadata.Config{})
		if err != nil {
			t.Fatal(err)
		}
		old := metadata.Update{Key: "k", Value: []byte("old"), Clock: metadata.Clock{Wall: 1, Node: "b"}}
		newer := metadata.Update{Key: "k", Value: []byte("new"), Clock: metadata.Clock{Wall: 2, Node: "b"}}
		idOld := metadata.MessageID{Key: "k", Clock: old.Clock}
		idNew := metadata.MessageID{Key: "k", Clock: newer.Clock}
		if st.IsStale(idOld) || !st.Merge(idOld, old) || !st.IsStale(idOld) {
			t.Fatal("first write")
		}
		if got, err := st.Graft(idOld); err != nil || string(got.(metadata.Update).Value) != "old" {
			t.Fatalf("graft %v %v", got, err)
		}
		if !st.Merge(idNew, newer) || st.Merge(idOld, old) {
			t.Fatal("last writer does not win")
		}
		if _, err := st.Graft(idOld); !errors.Is(err, plumtree.ErrStale) {
			t.Fatalf("graft of a superseded write: %v", err)
		}
		if !st.IsStale(idOld) {
			t.Fatal("a superseded write is not stale")
		}
	})
}
