package protoactor_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/protoactor"
)

type ping struct{ N int }

// quiet keeps Proto.Actor's log out of the test output.
var quiet = pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) })

func setup(t *testing.T) (*actor.Node, *pa.ActorSystem, *protoactor.Bridge) {
	t.Helper()
	node, err := actor.NewNode(actor.Config{Name: "bridge@test"})
	if err != nil {
		t.Fatal(err)
	}
	sys := pa.NewActorSystem(quiet)
	t.Cleanup(func() {
		_ = node.Stop(context.Background())
		sys.Shutdown()
	})
	return node, sys, protoactor.New(node, sys)
}

func recv[T any](t *testing.T, ch chan any) T {
	t.Helper()
	select {
	case m := <-ch:
		v, ok := m.(T)
		if !ok {
			t.Fatalf("got %#v", m)
		}
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing arrived for 10 s")
		panic("unreachable")
	}
}

// gotp sends to and calls a Proto.Actor actor; the actor's termination is a
// DOWN for gotp monitors of its proxy.
func TestGotpToProtoActor(t *testing.T) {
	node, sys, b := setup(t)
	got := make(chan any, 8)
	target := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case ping:
			if ctx.Sender() != nil {
				ctx.Respond(ping{N: m.N + 1})
				return
			}
			got <- m
		}
	}))
	gp, err := b.GotpPID(target)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Send(gp, ping{N: 1}); err != nil {
		t.Fatal(err)
	}
	if m := recv[ping](t, got); m.N != 1 {
		t.Fatalf("got %v", m)
	}
	reply, err := node.Call(context.Background(), gp, ping{N: 41})
	if err != nil || reply != (ping{N: 42}) {
		t.Fatalf("call: %v, %v", reply, err)
	}
	// A gotp process monitors the proxy; the actor stops.
	downs := monitor(t, node, gp)
	if err := sys.Root.StopFuture(target).Wait(); err != nil {
		t.Fatal(err)
	}
	if d := recv[actor.DownMessage](t, downs); !errors.Is(d.Reason, actor.Normal) {
		t.Fatalf("DOWN %v, want normal", d.Reason)
	}
}

// A call to an actor that does not answer fails with the future's error.
func TestGotpCallTimesOut(t *testing.T) {
	node, sys, b := setup(t)
	b.CallTimeout = 100 * time.Millisecond
	silent := sys.Root.Spawn(pa.PropsFromFunc(func(pa.Context) {}))
	gp, _ := b.GotpPID(silent)
	if _, err := node.Call(context.Background(), gp, ping{}); !errors.Is(err, pa.ErrTimeout) {
		t.Fatalf("call to a silent actor: %v, want the future's timeout", err)
	}
}

type counter struct{ n int }

func (c *counter) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if m, ok := req.(ping); ok {
		c.n += m.N
		return ping{N: c.n}, nil
	}
	return errors.New("not a ping"), nil // an error reply; the server goes on
}

func (c *counter) HandleInfo(p *actor.Process, msg any) error {
	if _, ok := msg.(string); ok {
		return actor.Shutdown
	}
	return nil
}

// Proto.Actor sends to and requests from a gotp server by name; a Watch of
// the proxy gets Terminated when the gotp process exits.
func TestProtoActorToGotp(t *testing.T) {
	node, sys, b := setup(t)
	if _, err := node.Spawn(actor.Server(&counter{}), actor.WithName("counter")); err != nil {
		t.Fatal(err)
	}
	pp, err := b.ProtoPID(actor.Name{Name: "counter"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sys.Root.RequestFuture(pp, ping{N: 5}, 5*time.Second).Result()
	if err != nil || res != (ping{N: 5}) {
		t.Fatalf("request: %v, %v", res, err)
	}
	res, _ = sys.Root.RequestFuture(pp, "not a ping either", 5*time.Second).Result()
	if e, ok := res.(error); !ok || e.Error() != "not a ping" {
		t.Fatalf("request that fails: %#v, want the error", res)
	}
	term := make(chan any, 1)
	sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case *pa.Started:
			ctx.Watch(pp)
		case *pa.Terminated:
			term <- m
		}
	}))
	sys.Root.Send(pp, "stop") // a plain send: HandleInfo stops the server
	if m := recv[*pa.Terminated](t, term); !m.Who.Equal(pp) {
		t.Fatalf("terminated %v", m)
	}
}

// A Proto.Actor actor that crashes is restarted by its supervisor and stays
// the same actor: the gotp side keeps reaching it, and sees no DOWN.
func TestCrashedProtoActorRestartsUnderItsSupervisor(t *testing.T) {
	node, sys, b := setup(t)
	got := make(chan any, 8)
	target := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case string:
			if m == "crash" {
				panic("crash requested")
			}
			got <- m
		}
	}))
	gp, _ := b.GotpPID(target)
	downs := monitor(t, node, gp)
	_ = node.Send(gp, "crash")
	_ = node.Send(gp, "after")
	if m := recv[string](t, got); m != "after" {
		t.Fatalf("got %q", m)
	}
	select {
	case d := <-downs:
		t.Fatalf("a restart fired %v", d)
	default:
	}
}

func newBridge(node *actor.Node, sys *pa.ActorSystem) *protoactor.Bridge {
	return protoactor.New(node, sys)
}

// monitor starts a gotp process that monitors pid and passes on its DOWN;
// it returns once the monitor is set.
func monitor(t *testing.T, node *actor.Node, pid actor.PID) chan any {
	t.Helper()
	downs := make(chan any, 1)
	w, err := node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case actor.PID:
			p.Monitor(m)
			downs <- "monitoring"
		case actor.DownMessage:
			downs <- m
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	_ = node.Send(w, pid)
	<-downs
	return downs
}
