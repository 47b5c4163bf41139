package protoactor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/protoactor"
)

type count struct{}

// A Proto.Actor actor with a bounded mailbox that stops handling: the proxy
// waits on it, its own mailbox fills, and gotp senders are refused, so what
// is held stays within the two bounds; once the actor goes on, every
// accepted message arrives, in order.
func TestSlowProtoActorPushesBackOnGotpSenders(t *testing.T) {
	node, sys, b := setup(t)
	b.MailboxBound = 100
	release, all := make(chan struct{}), make(chan struct{})
	got, want := 0, 0
	slow := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case ping:
			<-release
			if m.N != got {
				panic("out of order")
			}
			if got++; got == want {
				close(all)
			}
		case count:
			ctx.Respond(got)
		}
	}, pa.WithMailbox(pa.Bounded(8))))
	gp, err := b.GotpPID(slow)
	if err != nil {
		t.Fatal(err)
	}
	accepted, refused := 0, 0
	for range 10_000 {
		switch err := node.Send(gp, ping{N: accepted}); {
		case err == nil:
			accepted++
		case errors.Is(err, actor.ErrMailboxFull):
			refused++
		default:
			t.Fatal(err)
		}
	}
	// Held: the proxy's mailbox (100), the one it is passing on, the
	// actor's mailbox (8) and the one it is handling.
	if accepted > 100+1+8+1 || refused == 0 {
		t.Fatalf("accepted %d, refused %d: the bounds did not hold", accepted, refused)
	}
	want = accepted
	close(release)
	<-all
	v, err := node.Call(context.Background(), gp, count{})
	if err != nil || v != accepted {
		t.Fatalf("the actor handled %v (%v), want the %d accepted", v, err, accepted)
	}
}

// A gotp process with a bounded mailbox that stops handling: Proto.Actor
// sends past the bound are refused by gotp and counted as dropped (a
// Proto.Actor send cannot fail), never queued without end.
func TestSlowGotpProcessRefusesProtoActorSends(t *testing.T) {
	node, sys, b := setup(t)
	release, all := make(chan struct{}), make(chan struct{})
	got, want := 0, 0
	slow, err := node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if _, ok := msg.(ping); ok {
			<-release
			if got++; got == want {
				close(all)
			}
		}
		return nil
	}), actor.WithMailboxBound(50))
	if err != nil {
		t.Fatal(err)
	}
	pp, err := b.ProtoPID(slow)
	if err != nil {
		t.Fatal(err)
	}
	const sent = 10_000
	for i := range sent {
		sys.Root.Send(pp, ping{N: i})
	}
	// The proxy passes on in order: a request after the sends is handled
	// once they are all passed on or refused, and is refused itself.
	v, err := sys.Root.RequestFuture(pp, ping{}, 10*time.Second).Result()
	if e, ok := v.(error); err != nil || !ok || !errors.Is(e, actor.ErrMailboxFull) {
		t.Fatalf("request to the full mailbox: %v, %v; want ErrMailboxFull", v, err)
	}
	dropped := int(b.Dropped())
	if held := sent - dropped; dropped == 0 || held > 50 {
		t.Fatalf("dropped %d of %d: %d held past a bound of 50", dropped, sent, held)
	}
	want = sent - dropped
	close(release)
	<-all
}

// Requests in flight through one proxy are bounded: past MaxInFlight a call
// fails at once with ErrBusy instead of waiting with the others.
func TestRequestsInFlightAreBounded(t *testing.T) {
	node, sys, b := setup(t)
	b.MaxInFlight = 4
	silent := sys.Root.Spawn(pa.PropsFromFunc(func(pa.Context) {}))
	gp, err := b.GotpPID(silent)
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 10 {
		go func() {
			_, err := node.Call(ctx, gp, ping{})
			results <- err
		}()
	}
	for range 6 {
		if err := <-results; !errors.Is(err, protoactor.ErrBusy) {
			t.Fatalf("call past the bound: %v, want ErrBusy", err)
		}
	}
}
