package protoactor_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/protoactor"
)

// quote is the "legacy" Proto.Actor service's request; price its answer.
type quote struct{ Item string }
type price struct{ Cents int }

// pricing is the new gotp service: it asks the legacy service for a quote
// and adds tax.
type pricing struct{ legacy actor.PID }

func (s pricing) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	v, err := p.Call(context.Background(), s.legacy, req)
	if err != nil {
		return nil, err
	}
	return price{Cents: v.(price).Cents * 120 / 100}, nil
}

// A Proto.Actor service and a gotp service calling each other in one OS
// process: Proto.Actor asks the gotp service, which asks the Proto.Actor one.
func Example() {
	sys := pa.NewActorSystem(pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	node, _ := actor.NewNode(actor.Config{Name: "shop@local"})
	defer func() { _ = node.Stop(context.Background()) }()
	b := protoactor.New(node, sys)

	legacy := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		if q, ok := ctx.Message().(quote); ok {
			ctx.Respond(price{Cents: 100 * len(q.Item)})
		}
	}))
	legacyForGotp, _ := b.GotpPID(legacy)
	_, _ = node.Spawn(actor.Server(pricing{legacy: legacyForGotp}), actor.WithName("pricing"))

	pricingForProto, _ := b.ProtoPID(actor.Name{Name: "pricing"})
	v, err := sys.Root.RequestFuture(pricingForProto, quote{Item: "tea"}, time.Second).Result()
	fmt.Println(v, err)
	// Output: {360} <nil>
}
