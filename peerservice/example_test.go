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

// partisan_peer_service:forward_message(Node, Name, Msg, [{ack, true}]): two
// nodes of a full mesh, a registered process on one, a message to it by
// name from the other, acknowledged by the managers.
func ExampleService_ForwardMessage() {
	ctx := context.Background()
	net := transport.NewNetwork(1)
	start := func(name string) (*actor.Node, *peerservice.Service) {
		node, _ := actor.NewNode(actor.Config{Name: name})
		svc, err := peerservice.StartNode(node,
			remote.Config{Cookie: "example", Transport: net.Transport(name), Listen: []string{name}},
			peerservice.Config{})
		if err != nil {
			panic(err)
		}
		return node, svc
	}
	_, a := start("a")
	b, bsvc := start("b")
	defer a.Stop(ctx)
	defer bsvc.Stop(ctx)
	got := make(chan any, 1)
	b.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		got <- msg
		return nil
	}), actor.WithName("inbox"))

	if err := a.SyncJoin(ctx, bsvc.Myself()); err != nil {
		panic(err)
	}
	err := a.ForwardMessage(ctx, peerservice.ToName("b", "inbox"), "hello", peerservice.ForwardOptions{Ack: true})
	fmt.Println("forwarded:", err, "received:", <-got)
	members, _ := a.Members(ctx)
	fmt.Println("members:", members)
	// Output:
	// forwarded: <nil> received: hello
	// members: [a b]
}
