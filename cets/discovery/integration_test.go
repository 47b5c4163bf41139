package discovery_test

import (
	"reflect"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/cets/discovery"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/remote/transport"
)

// rec is the record type of the integration tests' tables.
type rec struct {
	Key string
	Val int
}

// cetsNode starts a node with a cluster lock server and table "t1".
func cetsNode(t *testing.T, net *transport.Network, name string) (*tnode, *cets.Table[string, rec]) {
	t.Helper()
	n := startNode(t, net, name)
	if _, err := clusterlock.Start(n.Node, clusterlock.Config{}); err != nil {
		t.Fatal(err)
	}
	tab, err := cets.Start(n.Node, "t1", cets.Options[string, rec]{Key: func(r rec) string { return r.Key }})
	if err != nil {
		t.Fatal(err)
	}
	return n, tab
}

func insert(t *testing.T, tab *cets.Table[string, rec], key string) {
	t.Helper()
	if err := tab.Insert(t.Context(), rec{Key: key, Val: 1}); err != nil {
		t.Fatalf("insert %s on %s: %v", key, tab.Node().Name(), err)
	}
}

func keys(tab *cets.Table[string, rec]) []string { return tab.Keys() }

func cetsDisco(t *testing.T, n *tnode, backend discovery.Backend) *discovery.Discovery {
	return startDisco(t, n.Node, discovery.Config{
		Backend: backend, Tables: []string{"t1"}, Network: discovery.RemoteNetwork(n.r),
	})
}

// WaitForReady returns once the tables hold the other node's data, and
// writes replicate from then on.
func TestTablesWaitForReadyLoadsRemoteData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a, ta := cetsNode(t, net, "a")
		b, tb := cetsNode(t, net, "b")
		insert(t, ta, "from-a")
		insert(t, tb, "from-b")
		da := cetsDisco(t, a, discovery.Static("a", "b"))
		if err := da.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := keys(ta); !reflect.DeepEqual(got, []string{"from-a", "from-b"}) {
			t.Fatalf("a holds %v when ready", got)
		}
		infos, err := da.Info(t.Context())
		if err != nil || len(infos) != 1 || infos[0].Table != "t1" || !reflect.DeepEqual(infos[0].Nodes, []string{"a", "b"}) || infos[0].Size != 2 {
			t.Fatalf("Info = %+v, %v", infos, err)
		}
		insert(t, ta, "after")
		if !tb.Has("after") {
			t.Fatal("write not on b when Insert returned")
		}
		info, err := da.SystemInfo(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// Joined on the node-up; a later round (after the backend call)
		// finds the tables joined already, as in CETS.
		if len(info.Results) != 1 || info.Results[0].What != discovery.WhatJoinResult ||
			(info.Results[0].Err != "" && info.Results[0].Err != cets.ErrAlreadyJoined.Error()) {
			t.Fatalf("join results %+v", info.Results)
		}
		// b's discovery, started later, finds the tables already joined.
		db := cetsDisco(t, b, discovery.Static("a", "b"))
		if err := db.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		st, err := da.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st.JoinedNodes, []string{"a", "b"}) || st.ConflictNodes != nil {
			t.Fatalf("status %+v", st)
		}
	})
}

// After a partition the tables split (writes go on on both sides); when it
// heals, discovery reconnects the nodes and joins the tables again, and both
// hold the writes of both sides.
func TestTablesHealAfterPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a, ta := cetsNode(t, net, "a")
		b, tb := cetsNode(t, net, "b")
		da := cetsDisco(t, a, discovery.Static("a", "b"))
		db := cetsDisco(t, b, discovery.Static("a", "b"))
		for _, d := range []*discovery.Discovery{da, db} {
			if err := d.WaitForReady(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		insert(t, ta, "before")
		net.Partition([]string{"a"}, []string{"b"})
		time.Sleep(10 * time.Second) // the net tick finds the peer lost
		if nodes, _ := ta.OtherNodes(t.Context()); len(nodes) != 0 {
			t.Fatalf("a's table still has peers %v", nodes)
		}
		insert(t, ta, "split-a")
		insert(t, tb, "split-b")
		net.Heal()
		// The regular check (at most 5 min away) reconnects; the node-up
		// joins.
		time.Sleep(6 * time.Minute)
		want := []string{"before", "split-a", "split-b"}
		for _, tab := range []*cets.Table[string, rec]{ta, tb} {
			if got := keys(tab); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s holds %v after the heal, want %v", tab.Node().Name(), got, want)
			}
		}
		if nodes, _ := ta.OtherNodes(t.Context()); !reflect.DeepEqual(nodes, []string{"b"}) {
			ia, _ := ta.Info(t.Context())
			ib, _ := tb.Info(t.Context())
			t.Fatalf("a's table peers %v\na: %+v\nb: %+v\ndisco a: %+v\ndisco b: %+v", nodes, ia, ib, sysInfo(t, da), sysInfo(t, db))
		}
		st, err := da.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st.JoinedNodes, []string{"a", "b"}) || len(st.UnavailableNodes) != 0 {
			t.Fatalf("status after heal %+v", st)
		}
	})
}

// Without discovery the tables stay split after the partition heals.
func TestTablesNoHealWithoutDiscovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a, ta := cetsNode(t, net, "a")
		b, tb := cetsNode(t, net, "b")
		if err := a.r.Connect(t.Context(), b.r.Spec()); err != nil {
			t.Fatal(err)
		}
		if err := ta.Join(t.Context(), tb.Server(), cets.JoinOptions{}); err != nil {
			t.Fatal(err)
		}
		insert(t, ta, "before")
		net.Partition([]string{"a"}, []string{"b"})
		time.Sleep(10 * time.Second)
		insert(t, ta, "split-a")
		insert(t, tb, "split-b")
		net.Heal()
		time.Sleep(30 * time.Minute)
		if got := keys(ta); !reflect.DeepEqual(got, []string{"before", "split-a"}) {
			t.Fatalf("a holds %v", got)
		}
		if got := keys(tb); !reflect.DeepEqual(got, []string{"before", "split-b"}) {
			t.Fatalf("b holds %v", got)
		}
		if nodes, _ := ta.OtherNodes(t.Context()); len(nodes) != 0 {
			t.Fatalf("a's table rejoined %v by itself", nodes)
		}
	})
}

// A node list file written after discovery started is picked up within a
// second, and the tables are joined.
func TestTablesFileAppearsLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(1)
		a, ta := cetsNode(t, net, "a")
		_, tb := cetsNode(t, net, "b")
		insert(t, tb, "from-b")
		path := t.TempDir() + "/nodes.txt"
		d := cetsDisco(t, a, &discovery.FileBackend{Path: path})
		time.Sleep(10 * time.Second)
		if si := sysInfo(t, d); si.LastGetNodesRetryType != discovery.RetryAfterError {
			t.Fatalf("retry type without the file: %s", si.LastGetNodesRetryType)
		}
		if err := writeFile(path, "a b\n"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := d.WaitForReady(t.Context()); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("ready %v after the file appeared", time.Since(start))
		}
		if !ta.Has("from-b") {
			t.Fatalf("b's data not on a: %+v", sysInfo(t, d).Results)
		}
		if nodes, _ := ta.OtherNodes(t.Context()); !slices.Equal(nodes, []string{"b"}) {
			t.Fatalf("peers %v", nodes)
		}
	})
}
