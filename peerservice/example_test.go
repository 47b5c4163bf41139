package peerservice_test

import (
	"context"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// A client that tries to join through another client is refused and
// referred to a server, and joins through it.
func Example_referral() {
	ctx := context.Background()
	net := transport.NewNetwork(1)
	start := func(name string, role peerservice.Role) *peerservice.Service {
		node, _ := actor.NewNode(actor.Config{Name: name})
		svc, err := peerservice.StartNode(node,
			remote.Config{Cookie: "example", Transport: net.Transport(name), Listen: []string{name}},
			peerservice.Config{Topology: peerservice.ClientServer, Role: role})
		if err != nil {
			panic(err)
		}
		return svc
	}
	s1 := start("s1", peerservice.Server)
	c1 := start("c1", peerservice.Client)
	c2 := start("c2", peerservice.Client)
	for _, svc := range []*peerservice.Service{c2, c1, s1} {
		defer svc.Stop(ctx)
	}

	if err := c1.SyncJoin(ctx, s1.Myself()); err != nil {
		panic(err)
	}
	err := c2.SyncJoin(ctx, c1.Myself()) // c1 refuses c2 and names s1
	fmt.Println("join:", err)
	for _, p := range c2.Remote().Peers() {
		fmt.Println("c2 is connected to", p.Name, "role", p.Tags[peerservice.RoleTag])
	}
	fmt.Println("c2 connected to c1:", c2.Remote().IsConnected("c1"))
	// Output:
	// join: <nil>
	// c2 is connected to s1 role server
	// c2 connected to c1: false
}
