package ensemble_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// riak_ensemble on three nodes of an in-memory network: a cluster, an
// ensemble with a peer on each node, a watcher told when a peer starts
// leading (riak_ensemble_peer:watch_leader_status), then the client calls
// riak_ensemble_client makes: kover, kget, kput_once, kupdate, kdelete.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	net := transport.NewNetwork(1)
	// Short ticks so that the example elects a leader in well under a
	// second; the defaults are riak's (500 ms ticks, 3 s follower timeout).
	cfg := ensemble.Config{Tick: 50 * time.Millisecond, Lease: 250 * time.Millisecond, FollowerTimeout: 500 * time.Millisecond}
	names := []string{"n1", "n2", "n3"}
	nodes, svcs := map[string]*actor.Node{}, map[string]*ensemble.Service{}
	for _, name := range names {
		node, _ := actor.NewNode(actor.Config{Name: name})
		defer node.Stop(context.Background())
		r, _ := remote.Start(node, remote.Config{Cookie: "secret", Transport: net.Transport(name), Listen: []string{name},
			Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
		defer r.Stop()
		svc, err := ensemble.Start(node, nil, cfg)
		if err != nil {
			fmt.Println(err)
			return
		}
		nodes[name], svcs[name] = node, svc
	}
	_ = svcs["n1"].Enable(ctx) // riak_ensemble_manager:enable()
	_ = svcs["n2"].Join(ctx, "n1")
	_ = svcs["n3"].Join(ctx, "n1")
	if err := svcs["n1"].CreateEnsemble(ctx, "users", names, ensemble.MemoryBackend); err != nil {
		fmt.Println(err)
		return
	}

	// Wait for a leader without polling: each node's peer tells one
	// watcher process when it leads (and at once what it is now).
	leading := make(chan ensemble.LeaderStatus, 8)
	watcher, _ := nodes["n1"].Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if st, ok := msg.(ensemble.LeaderStatus); ok && st.Leading {
			leading <- st
		}
		return nil
	}))
	for _, name := range names {
		_ = svcs[name].WatchLeaderStatus(ctx, "users", watcher)
	}
	leader := (<-leading).Node
	fmt.Println("users has a leader")

	// Any node's client works once its directory knows the leader; the
	// leader's own node serves at once.
	cl := svcs[leader].Client()
	o1, _ := cl.KOver(ctx, "users", "alice", []byte("admin"))
	got, _ := cl.KGet(ctx, "users", "alice")
	fmt.Printf("kget: %s, the version kover wrote: %v\n", got.Value, got.Version() == o1.Version())
	_, err := cl.KPutOnce(ctx, "users", "alice", []byte("guest"))
	fmt.Println("kput_once on a set key:", errors.Is(err, ensemble.ErrFailed))
	o2, _ := cl.KUpdate(ctx, "users", "alice", got, []byte("owner"))
	fmt.Printf("kupdate: %s, newer: %v\n", o2.Value, o1.Version().Less(o2.Version()))
	_, err = cl.KUpdate(ctx, "users", "alice", got, []byte("root")) // got is stale now
	fmt.Println("kupdate from a stale read:", errors.Is(err, ensemble.ErrFailed))
	_, _ = cl.KDelete(ctx, "users", "alice")
	got, _ = cl.KGet(ctx, "users", "alice")
	fmt.Println("after kdelete, notfound:", got.NotFound)
	// Output:
	// users has a leader
	// kget: admin, the version kover wrote: true
	// kput_once on a set key: true
	// kupdate: owner, newer: true
	// kupdate from a stale read: true
	// after kdelete, notfound: true
}
