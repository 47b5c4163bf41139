package cets_test

import (
	"context"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

type Session struct {
	User string
	Node string
}

// Two nodes on an in-memory network each start the table "sessions", join
// them, and see each other's writes as soon as the writes return.
func Example() {
	ctx := context.Background()
	net := transport.NewNetwork(1)
	var tables []*cets.Table[string, Session]
	var remotes []*remote.Remote
	for _, name := range []string{"a", "b"} {
		node, _ := actor.NewNode(actor.Config{Name: name})
		defer node.Stop(ctx)
		r, _ := remote.Start(node, remote.Config{Cookie: "secret", Transport: net.Transport(name), Listen: []string{name}})
		defer r.Stop()
		_, _ = clusterlock.Start(node, clusterlock.Config{}) // joins need a lock server on every node
		tab, err := cets.Start(node, "sessions", cets.Options[string, Session]{
			Key: func(s Session) string { return s.User },
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		tables, remotes = append(tables, tab), append(remotes, r)
	}
	_ = remotes[0].Connect(ctx, remotes[1].Spec())
	a, b := tables[0], tables[1]

	if err := a.Join(ctx, b.Server(), cets.JoinOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	_ = a.Insert(ctx, Session{User: "alice", Node: "a"})
	_ = b.Insert(ctx, Session{User: "bob", Node: "b"})

	s, _ := b.Get("alice")
	fmt.Println("on b:", s.User, "is on", s.Node)
	fmt.Println("on a:", a.All())
	others, _ := a.OtherNodes(ctx)
	fmt.Println("a's table is also on", others)
	// Output:
	// on b: alice is on a
	// on a: [{alice a} {bob b}]
	// a's table is also on [b]
}
