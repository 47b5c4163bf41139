package cets_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/supervisor"
)

func TestNodeDownCallsHandleDownOnceAndRecordsHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(1), "a", "b", "c")
		var mu sync.Mutex
		downs := map[string][]cets.DownInfo{}
		var ts []*cets.Table[string, Rec]
		for _, n := range ns {
			name := n.name
			var tab *cets.Table[string, Rec]
			tab = startTable(t, n, "tab", cets.Options[string, Rec]{HandleDown: func(d cets.DownInfo) {
				mu.Lock()
				downs[name] = append(downs[name], d)
				mu.Unlock()
				// The handler may use the table (checked below; when the
				// test ends and the nodes stop, this write fails).
				_ = tab.Insert(context.Background(), Rec{"down/" + name, 1})
			}})
			ts = append(ts, tab)
		}
		join(t, ts[0], ts[1])
		join(t, ts[0], ts[2])
		lost, _ := ts[2].PID() // c's server, the leader
		ns[2].stop()
		time.Sleep(2 * tick)
		for i, tab := range ts[:2] {
			mu.Lock()
			d := downs[ns[i].name]
			mu.Unlock()
			// b (the highest left) becomes the leader.
			if len(d) != 1 || d[0].Remote != lost || d[0].IsLeader != (i == 1) || d[0].Table != "tab" {
				t.Fatalf("%s: HandleDown calls %+v", ns[i].name, d)
			}
			info, _ := tab.Info(t.Context())
			if !reflect.DeepEqual(info.Nodes, []string{"a", "b"}) || len(info.NodeDownHistory) != 1 || info.NodeDownHistory[0].Node != "c" {
				t.Fatalf("%s: info %+v", ns[i].name, info)
			}
			if pid, _ := ts[1].PID(); info.Leader != pid {
				t.Fatalf("leader %v", info.Leader)
			}
		}
		if !ts[0].Has("down/a") || !ts[0].Has("down/b") {
			t.Fatal("HandleDown's writes missing")
		}
		// No automatic rejoin: the table stays without c.
		mustInsert(t, ts[0], Rec{"k", 1})
		if !ts[1].Has("k") {
			t.Fatal("write lost between a and b")
		}
	})
}

func TestWriteReturnsDuringNetsplitWithinDetectionTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(2)
		ns := cluster(t, net, "a", "b")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		net.Isolate("b")
		start := time.Now()
		if err := ts[0].Insert(t.Context(), Rec{"k", 1}); err != nil {
			t.Fatalf("write during a netsplit: %v", err)
		}
		if el := time.Since(start); el > tick+tick/4 {
			t.Fatalf("write took %v, want within the detection time %v", el, tick)
		}
		if !ts[0].Has("k") || ts[1].Has("k") {
			t.Fatal("write should be on a only")
		}
		info, _ := ts[0].Info(t.Context())
		if len(info.OtherServers) != 0 {
			t.Fatalf("b still a peer: %v", info.OtherServers)
		}
	})
}

func TestStaleJoinRefOpsAreDroppedButAcked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(3), "a", "b")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		pa, _ := ts[0].PID()
		pb, _ := ts[1].PID()
		// b takes a new join ref that a does not know: a's batches are
		// stale to it.
		info, _ := ts[1].Info(t.Context())
		if err := cets.ForcePeers(t.Context(), ns[1], pb, []actor.PID{pa, pb}, info.JoinRef+1); err != nil {
			t.Fatal(err)
		}
		if err := ts[0].Insert(t.Context(), Rec{"k", 1}); err != nil {
			t.Fatalf("stale write not acked: %v", err)
		}
		if ts[1].Has("k") || !ts[0].Has("k") {
			t.Fatal("stale batch applied on b")
		}
	})
}

func TestBagTable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(4), "a", "b")
		ts := tables(t, ns, "bag", cets.Options[string, Rec]{Type: cets.Bag})
		mustInsert(t, ts[0], Rec{"k", 1}, Rec{"k", 2}, Rec{"k", 1}, Rec{"j", 1})
		if got := ts[1].Lookup("k"); !reflect.DeepEqual(got, []Rec{{"k", 1}, {"k", 2}}) {
			t.Fatalf("lookup %v", got)
		}
		if err := ts[1].DeleteObjects(t.Context(), []Rec{{"k", 1}}); err != nil {
			t.Fatal(err)
		}
		if got := ts[0].Lookup("k"); !reflect.DeepEqual(got, []Rec{{"k", 2}}) || ts[0].Len() != 2 {
			t.Fatalf("after delete object %v (len %d)", got, ts[0].Len())
		}
	})
}

func TestRangeAndPrefix(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := startNode(t, transport.NewNetwork(5), "a")
		tab := startTable(t, n, "t", cets.Options[string, Rec]{})
		mustInsert(t, tab, Rec{"user/1", 1}, Rec{"user/2", 2}, Rec{"room/1", 3}, Rec{"usex", 4})
		if got := cets.Prefix(tab, "user/"); !reflect.DeepEqual(got, []Rec{{"user/1", 1}, {"user/2", 2}}) {
			t.Fatalf("prefix %v", got)
		}
		if got := tab.Range("room", "user/2"); !reflect.DeepEqual(got, []Rec{{"room/1", 3}, {"user/1", 1}}) {
			t.Fatalf("range %v", got)
		}
		if got := tab.Keys(); len(got) != 4 || got[0] != "room/1" {
			t.Fatalf("keys %v", got)
		}
		dump, err := tab.Dump(t.Context())
		if err != nil || len(dump) != 4 {
			t.Fatalf("dump %v %v", dump, err)
		}
	})
}

func TestTupleRecordsWithKeyAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := startNode(t, transport.NewNetwork(6), "a")
		tab, err := cets.Start(n.Node, "tuples", cets.Options[string, []any]{Key: cets.KeyAt[string](2)})
		if err != nil {
			t.Fatal(err)
		}
		if err := tab.Insert(t.Context(), []any{"session", "alice", 1}); err != nil {
			t.Fatal(err)
		}
		if got, ok := tab.Get("alice"); !ok || got[2] != 1 {
			t.Fatalf("get %v %v", got, ok)
		}
	})
}

func TestChildSpecRestartKeepsTheHandle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := startNode(t, transport.NewNetwork(7), "a")
		spec, tab, err := cets.ChildSpec(n.Node, "t", cets.Options[string, Rec]{Key: recKey})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := supervisor.Start(n.Node, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{spec}}); err != nil {
			t.Fatal(err)
		}
		mustInsert(t, tab, Rec{"k", 1})
		old, _ := tab.PID()
		if err := n.Exit(old, actor.Kill); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if pid, ok := tab.PID(); !ok || pid == old {
			t.Fatalf("not restarted: %v %v", pid, ok)
		}
		// A restarted server is empty, and the handle works with it.
		if tab.Has("k") {
			t.Fatal("restarted server kept data")
		}
		mustInsert(t, tab, Rec{"j", 1})
		if !tab.Has("j") {
			t.Fatal("handle does not reach the restarted server")
		}
	})
}

func TestRejoinAfterNetsplitReplicatesAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(8)
		ns := cluster(t, net, "a", "b")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		mustInsert(t, ts[0], Rec{"before", 1})
		net.Isolate("b")
		mustInsert(t, ts[0], Rec{"during/a", 1})
		mustInsert(t, ts[1], Rec{"during/b", 1})
		time.Sleep(2 * tick)
		net.Heal()
		if err := ns[0].r.Connect(t.Context(), ns[1].r.Spec()); err != nil {
			t.Fatal(err)
		}
		join(t, ts[0], ts[1])
		mustInsert(t, ts[0], Rec{"after/a", 1})
		mustInsert(t, ts[1], Rec{"after/b", 1})
		want := []string{"after/a", "after/b", "before", "during/a", "during/b"}
		for _, tab := range ts {
			if got := tab.Keys(); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %v, want %v", tab.Node().Name(), got, want)
			}
		}
	})
}
