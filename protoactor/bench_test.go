package protoactor_test

import (
	"context"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"

	"github.com/gotp-dev/gotp/actor"
)

type echoServer struct{}

func (echoServer) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return req, nil
}

// BenchmarkCall: one sequential request/response round trip per op, from a
// goroutine, to an echo on each side natively and across the bridge, in the
// same run.
func BenchmarkCall(b *testing.B) {
	node, err := actor.NewNode(actor.Config{Name: "bench@local"})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = node.Stop(context.Background()) }()
	sys := pa.NewActorSystem(quiet)
	defer sys.Shutdown()
	br := newBridge(node, sys)
	gotpEcho, _ := node.Spawn(actor.Server(echoServer{}))
	protoEcho := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		if m, ok := ctx.Message().(ping); ok {
			ctx.Respond(m)
		}
	}))
	protoForGotp, err := br.GotpPID(protoEcho)
	if err != nil {
		b.Fatal(err)
	}
	gotpForProto, err := br.ProtoPID(gotpEcho)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("gotp_native", func(b *testing.B) {
		for b.Loop() {
			if _, err := node.Call(ctx, gotpEcho, ping{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("protoactor_native", func(b *testing.B) {
		for b.Loop() {
			if _, err := sys.Root.RequestFuture(protoEcho, ping{}, time.Second).Result(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gotp_to_protoactor", func(b *testing.B) {
		for b.Loop() {
			if _, err := node.Call(ctx, protoForGotp, ping{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("protoactor_to_gotp", func(b *testing.B) {
		for b.Loop() {
			if _, err := sys.Root.RequestFuture(gotpForProto, ping{}, time.Second).Result(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
