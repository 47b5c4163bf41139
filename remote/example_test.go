package remote_test

import (
	"context"
	"fmt"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

type greeter struct{}

func (greeter) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return fmt.Sprintf("hello, %v, from %s", req, p.Node().Name()), nil
}

// {Name, Node} ! Msg and gen_server:call({Name, Node}, Req): two nodes (on
// the in-memory network here; transport.TCP across machines), a process
// registered on one, reached by name from the other; a monitor across the
// nodes fires when it stops.
func Example() {
	network := transport.NewNetwork(1)
	start := func(name string) (*actor.Node, *remote.Remote) {
		node, _ := actor.NewNode(actor.Config{Name: name})
		r, err := remote.Start(node, remote.Config{Cookie: "secret", Transport: network.Transport(name), Listen: []string{name}})
		if err != nil {
			panic(err)
		}
		return node, r
	}
	a, ra := start("a")
	b, rb := start("b")
	defer func() { ra.Stop(); rb.Stop(); a.Stop(context.Background()); b.Stop(context.Background()) }()
	ctx := context.Background()
	if err := ra.Connect(ctx, rb.Spec()); err != nil {
		panic(err)
	}
	b.Spawn(actor.Server(greeter{}), actor.WithName("greeter"))

	there := actor.Name{Node: "b", Name: "greeter"}
	reply, err := actor.CallAs[string](ctx, a, there, "a")
	if err != nil {
		panic(err)
	}
	fmt.Println(reply)

	downs := make(chan actor.DownMessage, 1)
	watcher, _ := a.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case string:
			p.Monitor(there)
			// What one process sends another arrives in order: once a call
			// after the monitor is answered, the monitor is in place.
			if _, err := p.Call(context.Background(), there, "sync"); err != nil {
				return err
			}
			downs <- actor.DownMessage{} // monitoring now
		case actor.DownMessage:
			downs <- m
		}
		return nil
	}))
	a.Send(watcher, "watch")
	<-downs
	b.StopProcess(ctx, actor.Name{Name: "greeter"}, actor.Shutdown)
	fmt.Println("down:", (<-downs).Reason)
	// Output:
	// hello, a, from b
	// down: shutdown
}
