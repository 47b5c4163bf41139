package dist_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/erlang/dist"
	"github.com/gotp-dev/gotp/erlang/etf"
)

// counter is a gen_server an Erlang node calls as
// gen_server:call({counter, 'a@127.0.0.1'}, {add, N}).
type counter struct{ n int64 }

func (c *counter) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if t, ok := req.(etf.Tuple); ok && len(t) == 2 && t[0] == etf.Atom("add") {
		if n, ok := t[1].(int64); ok {
			c.n += n
			return etf.Tuple{etf.Atom("ok"), c.n}, nil
		}
	}
	return etf.Tuple{etf.Atom("error"), etf.Atom("badarg")}, nil
}

// Two gotp nodes speaking Erlang's distribution to each other on loopback,
// with a port mapper of their own (no erl, no epmd needed): the very
// protocol an Erlang node speaks to them. One calls the other's gen_server
// with Erlang terms, as gen_server:call({counter, 'a@127.0.0.1'}, {add, 2})
// would.
func Example() {
	epmd, err := dist.ListenEPMD("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer epmd.Close()
	start := func(name string) (*actor.Node, *dist.Dist) {
		node, _ := actor.NewNode(actor.Config{Name: name})
		d, err := dist.Start(node, dist.Config{Cookie: "secret", Listen: "127.0.0.1:0", EPMDPort: epmd.Port()})
		if err != nil {
			panic(err)
		}
		return node, d
	}
	a, da := start("a@127.0.0.1")
	b, db := start("b@127.0.0.1")
	defer func() { db.Stop(); da.Stop(); b.Stop(context.Background()); a.Stop(context.Background()) }()
	a.Spawn(actor.Server(&counter{}), actor.WithName("counter"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.Connect(ctx, "a@127.0.0.1"); err != nil { // net_kernel:connect_node('a@127.0.0.1')
		panic(err)
	}
	there := actor.Name{Node: "a@127.0.0.1", Name: "counter"}
	for _, n := range []int64{2, 40} {
		reply, err := b.Call(ctx, there, etf.Tuple{etf.Atom("add"), n})
		if err != nil {
			panic(err)
		}
		fmt.Println(etf.Format(reply))
	}
	reply, _ := b.Call(ctx, there, etf.Atom("reset"))
	fmt.Println(etf.Format(reply))
	fmt.Println("a sees b:", da.IsConnected("b@127.0.0.1"))
	// Output:
	// {ok,2}
	// {ok,42}
	// {error,badarg}
	// a sees b: true
}
