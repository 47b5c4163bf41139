package protoactor_test

import (
	"context"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	paremote "github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/wrapperspb"

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

// BenchmarkRemoteCall: request/response round trips across two OS processes
// over Proto.Actor's remote, natively and through the bridge, in the same
// run. The legacy service runs in a child process.
//
//   - protoactor_native: RequestFuture from this process's actor system to
//     the legacy service's actor (one round trip).
//   - gotp_to_protoactor: a gotp Call through a proxy to the same actor
//     (one round trip).
//   - legacy_to_protoactor: the legacy service's caller asks an echo actor
//     of this process's system (two round trips: ours to it, its to us).
//   - legacy_to_gotp: the same, to an exposed gotp echo server.
func BenchmarkRemoteCall(b *testing.B) {
	node, err := actor.NewNode(actor.Config{Name: "bench@local"})
	if err != nil {
		b.Fatal(err)
	}
	sys := pa.NewActorSystem(quiet)
	r := paremote.NewRemote(sys, paremote.Configure("127.0.0.1", 0))
	r.Start()
	defer func() { _ = node.Stop(context.Background()); r.Shutdown(false); sys.Shutdown() }()
	br := newBridge(node, sys)
	svc := startLegacy(b, sys.Address())
	quotes := pa.NewPID(svc.addr, "quotes")
	quotesForGotp, err := br.GotpPID(quotes)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sys.Root.SpawnNamed(pa.PropsFromFunc(func(ctx pa.Context) {
		if _, ok := ctx.Message().(*wrapperspb.StringValue); ok {
			ctx.Respond(wrapperspb.Int64(1))
		}
	}), "paecho"); err != nil {
		b.Fatal(err)
	}
	if _, err := node.Spawn(actor.Server(teaPrices{}), actor.WithName("gotpecho")); err != nil {
		b.Fatal(err)
	}
	if _, err := br.Expose("gotpecho", actor.Name{Name: "gotpecho"}); err != nil {
		b.Fatal(err)
	}
	caller := pa.NewPID(svc.addr, "caller")
	tea := wrapperspb.String("tea")
	ctx := context.Background()
	b.Run("protoactor_native", func(b *testing.B) {
		for b.Loop() {
			if _, err := sys.Root.RequestFuture(quotes, tea, 5*time.Second).Result(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gotp_to_protoactor", func(b *testing.B) {
		for b.Loop() {
			if _, err := node.Call(ctx, quotesForGotp, tea); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, target := range []string{"paecho", "gotpecho"} {
		name := map[string]string{"paecho": "legacy_to_protoactor", "gotpecho": "legacy_to_gotp"}[target]
		b.Run(name, func(b *testing.B) {
			req := wrapperspb.String(target)
			for b.Loop() {
				v, err := sys.Root.RequestFuture(caller, req, 5*time.Second).Result()
				if _, ok := v.(*wrapperspb.Int64Value); err != nil || !ok {
					b.Fatalf("%v, %v", v, err)
				}
			}
		})
	}
}
