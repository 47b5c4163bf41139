package tlstest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/transport/tlstest"
)

// Two nodes over mutual TLS 1.3 on loopback, each with a certificate for its
// name from one test CA; RequireCertName makes a node prove its name with its
// certificate, so a cookie holder cannot pose as another node.
func Example() {
	ca, err := tlstest.NewCA()
	if err != nil {
		panic(err)
	}
	start := func(name string) (*actor.Node, *remote.Remote) {
		conf, err := ca.NodeConfig(name)
		if err != nil {
			panic(err)
		}
		node, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			panic(err)
		}
		r, err := remote.Start(node, remote.Config{
			Cookie: "secret", Listen: []string{"127.0.0.1:0"},
			Transport: &transport.TCP{TLS: conf}, RequireCertName: true,
		})
		if err != nil {
			panic(err)
		}
		return node, r
	}
	a, ra := start("a")
	b, rb := start("b")
	defer func() {
		ctx := context.Background()
		_ = a.Stop(ctx)
		_ = b.Stop(ctx)
	}()
	if _, err := b.Spawn(actor.Server(echo{}), actor.WithName("echo")); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ra.Connect(ctx, rb.Spec()); err != nil {
		panic(err)
	}
	reply, err := a.Call(ctx, actor.Name{Node: "b", Name: "echo"}, "over TLS")
	fmt.Println(reply, err)
	// Output: over TLS <nil>
}

type echo struct{}

func (echo) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) { return req, nil }
