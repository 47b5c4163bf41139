package metadata_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/plumtree/metadata"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// riak_core_metadata:put and get on three nodes of an in-memory network: a
// write on one node reaches the others along the broadcast tree, and so
// does a delete. OnChange tells each node's story.
func Example() {
	ctx := context.Background()
	net := transport.NewNetwork(1)
	members := []string{"a", "b", "c"}
	changes := make(chan string, 16)
	stores := map[string]*metadata.Store{}
	for _, name := range members {
		node, _ := actor.NewNode(actor.Config{Name: name})
		defer node.Stop(ctx)
		r, _ := remote.Start(node, remote.Config{Cookie: "secret", Transport: net.Transport(name), Listen: []string{name},
			Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
		defer r.Stop()
		st, _ := metadata.Start(node, metadata.Config{OnChange: func(key string, value []byte, deleted bool) {
			if deleted {
				changes <- fmt.Sprintf("%s: %s deleted", name, key)
			} else {
				changes <- fmt.Sprintf("%s: %s = %s", name, key, value)
			}
		}})
		// The membership given, no peer service: a static cluster.
		srv, err := plumtree.Start(node, nil, plumtree.Config{Handlers: []plumtree.Handler{st},
			Members: members, NoMembershipUpdates: true})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer srv.Stop(ctx)
		st.Bind(srv)
		stores[name] = st
	}
	// await prints the next n changes, in node order.
	await := func(n int) {
		got := make([]string, n)
		for i := range got {
			got[i] = <-changes
		}
		slices.Sort(got)
		for _, c := range got {
			fmt.Println(c)
		}
	}

	_ = stores["a"].Put("feature/checkout", []byte("on"))
	await(3) // a's own write, then b and c
	v, ok := stores["c"].Get("feature/checkout")
	fmt.Printf("c reads %s %v\n", v, ok)

	_ = stores["b"].Delete("feature/checkout")
	await(3)
	fmt.Println("keys on a:", stores["a"].Keys())
	// Output:
	// a: feature/checkout = on
	// b: feature/checkout = on
	// c: feature/checkout = on
	// c reads on true
	// a: feature/checkout deleted
	// b: feature/checkout deleted
	// c: feature/checkout deleted
	// keys on a: []
}
