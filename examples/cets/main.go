// Command cets runs three nodes in one process over loopback TCP, each with a
// replicated table of sessions: the tables are joined, writes on any node are
// read locally on every other, InsertNew lets exactly one of three racing
// nodes claim a name, and when a node is stopped the others report it down
// and keep writing.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/remote"
)

// Session is one record: a user and the node they are connected to.
type Session struct {
	User string
	Node string
}

// stopping is set before c is stopped, so that c's own view of losing
// the others as it goes is not printed.
var stopping atomic.Bool

type member struct {
	node *actor.Node
	r    *remote.Remote
	tab  *cets.Table[string, Session]
}

func start(name string) (*member, error) {
	node, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		return nil, err
	}
	r, err := remote.Start(node, remote.Config{Cookie: "example-cookie", Listen: []string{"127.0.0.1:0"}, NetTickTime: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	if _, err := clusterlock.Start(node, clusterlock.Config{}); err != nil {
		return nil, err
	}
	tab, err := cets.Start(node, "sessions", cets.Options[string, Session]{
		Key: func(s Session) string { return s.User },
		HandleDown: func(d cets.DownInfo) {
			if stopping.Load() && name == "c" {
				return
			}
			fmt.Printf("%s: lost %s's table (leader now: %v)\n", name, d.Remote.Node, d.IsLeader)
		},
	})
	if err != nil {
		return nil, err
	}
	return &member{node: node, r: r, tab: tab}, nil
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ms []*member
	for _, name := range []string{"a", "b", "c"} {
		m, err := start(name)
		if err != nil {
			return err
		}
		defer func() {
			m.r.Stop()
			_ = m.node.Stop(context.Background())
		}()
		ms = append(ms, m)
	}
	for i, m := range ms {
		for _, o := range ms[i+1:] {
			if err := m.r.Connect(ctx, o.r.Spec()); err != nil {
				return err
			}
		}
	}
	for _, m := range ms[1:] {
		if err := ms[0].tab.Join(ctx, m.tab.Server(), cets.JoinOptions{}); err != nil {
			return err
		}
	}
	nodes, _ := ms[0].tab.OtherNodes(ctx)
	fmt.Println("a's table is joined with", nodes)

	if err := ms[1].tab.Insert(ctx, Session{User: "alice", Node: "b"}); err != nil {
		return err
	}
	s, _ := ms[2].tab.Get("alice")
	fmt.Printf("c reads locally: alice is on %s\n", s.Node)

	// Three nodes race to claim "bob": the leader serializes, one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for _, m := range ms {
		wg.Go(func() {
			ok, err := m.tab.InsertNew(ctx, Session{User: "bob", Node: m.node.Name()})
			mu.Lock()
			defer mu.Unlock()
			if err == nil && ok {
				winners++
			}
		})
	}
	wg.Wait()
	bob, _ := ms[0].tab.Get("bob")
	fmt.Printf("InsertNew of bob: %d winner, bob is on the same node everywhere: %v\n", winners, sameEverywhere(ms, bob))

	// Stop c: a and b find it down and keep going.
	stopping.Store(true)
	ms[2].r.Stop()
	_ = ms[2].node.Stop(ctx)
	start := time.Now()
	if err := ms[0].tab.Insert(ctx, Session{User: "carol", Node: "a"}); err != nil {
		return err
	}
	info, _ := ms[1].tab.Info(ctx)
	fmt.Printf("write after c stopped returned (%s); b's table is now on %v\n", time.Since(start).Round(time.Second), info.Nodes)
	return nil
}

func sameEverywhere(ms []*member, want Session) bool {
	for _, m := range ms {
		if got, _ := m.tab.Get(want.User); got != want {
			return false
		}
	}
	return true
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cets example:", err)
		os.Exit(1)
	}
}
