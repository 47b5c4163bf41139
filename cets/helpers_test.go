package cets_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Rec is the record type of the tests' tables: Key is the key.
type Rec struct {
	Key string
	Val int
}

func recKey(r Rec) string { return r.Key }

const tick = 4 * time.Second // net tick time in tests

type tnode struct {
	*actor.Node
	r    *remote.Remote
	name string
	stop func()
}

func startNode(t *testing.T, net *transport.Network, name string) *tnode {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.Start(n, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name}, NetTickTime: tick})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clusterlock.Start(n, clusterlock.Config{}); err != nil {
		t.Fatal(err)
	}
	tn := &tnode{Node: n, r: r, name: name}
	var once sync.Once
	tn.stop = func() {
		once.Do(func() {
			r.Stop()
			_ = n.Stop(context.Background())
		})
	}
	t.Cleanup(tn.stop)
	return tn
}

// cluster starts the nodes and connects every pair.
func cluster(t *testing.T, net *transport.Network, names ...string) []*tnode {
	t.Helper()
	var ns []*tnode
	for _, name := range names {
		ns = append(ns, startNode(t, net, name))
	}
	for i, a := range ns {
		for _, b := range ns[i+1:] {
			if err := a.r.Connect(t.Context(), b.r.Spec()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ns
}

func startTable(t *testing.T, n *tnode, name string, opts cets.Options[string, Rec]) *cets.Table[string, Rec] {
	t.Helper()
	if opts.Key == nil {
		opts.Key = recKey
	}
	tab, err := cets.Start(n.Node, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// tables starts table name on every node and joins them all into one.
func tables(t *testing.T, ns []*tnode, name string, opts cets.Options[string, Rec]) []*cets.Table[string, Rec] {
	t.Helper()
	var ts []*cets.Table[string, Rec]
	for _, n := range ns {
		ts = append(ts, startTable(t, n, name, opts))
	}
	for _, tab := range ts[1:] {
		join(t, ts[0], tab)
	}
	return ts
}

func join(t *testing.T, a, b *cets.Table[string, Rec]) {
	t.Helper()
	if err := a.Join(t.Context(), b.Server(), cets.JoinOptions{}); err != nil {
		t.Fatalf("join %s with %s: %v", a.Node().Name(), b.Node().Name(), err)
	}
}

func mustInsert(t *testing.T, tab *cets.Table[string, Rec], recs ...Rec) {
	t.Helper()
	if err := tab.InsertMany(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
}

// idle spawns a process that exits with the error it is sent.
func idle(t *testing.T, n *tnode) actor.PID {
	t.Helper()
	pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if err, ok := msg.(error); ok {
			return err
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
