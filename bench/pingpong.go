package bench

import (
	"testing"

	pa "github.com/asynkron/protoactor-go/actor"
	"github.com/gotp-dev/gotp/actor"
)

// Ping-pong: two processes bounce a message; exactly one message is in flight
// at any time, so this measures the latency of one send plus the wake-up of an
// idle receiver. One op is one round trip (two messages).

type (
	ping struct{}
	pong struct{}
	// startPing tells the pinger to play n round trips and close done after.
	startPing struct {
		n    int
		done chan struct{}
	}
)

func gotpPingPong(tb testing.TB) harness {
	node := newGotpNode(tb)
	// pinger is set before the first ping can reach the ponger.
	var pinger actor.PID
	ponger, err := node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if _, ok := msg.(ping); ok {
			return p.Send(pinger, pong{})
		}
		return nil
	}))
	if err != nil {
		tb.Fatal(err)
	}
	var (
		left int
		done chan struct{}
	)
	pinger, err = node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		switch m := msg.(type) {
		case startPing:
			left, done = m.n, m.done
		case pong:
			left--
		default:
			return nil
		}
		if left == 0 {
			close(done)
			return nil
		}
		return p.Send(ponger, ping{})
	}))
	if err != nil {
		tb.Fatal(err)
	}
	return harness{
		run: func(n int) {
			d := make(chan struct{})
			if err := node.Send(pinger, startPing{n: n, done: d}); err != nil {
				panic(err)
			}
			<-d
		},
		stop: func() { stopGotpNode(tb, node) },
	}
}

func chanPingPong(tb testing.TB) harness {
	pings, pongs := make(chan struct{}), make(chan struct{})
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-pings:
				pongs <- struct{}{}
			case <-quit:
				return
			}
		}
	}()
	return harness{
		run: func(n int) {
			for range n {
				pings <- struct{}{}
				<-pongs
			}
		},
		stop: func() { close(quit) },
	}
}

func protoPingPong(tb testing.TB) harness {
	sys := newProtoSystem()
	var pinger *pa.PID
	ponger := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		if _, ok := ctx.Message().(ping); ok {
			ctx.Send(pinger, pong{})
		}
	}))
	var (
		left int
		done chan struct{}
	)
	pinger = sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		switch m := ctx.Message().(type) {
		case startPing:
			left, done = m.n, m.done
		case pong:
			left--
		default:
			return
		}
		if left == 0 {
			close(done)
			return
		}
		ctx.Send(ponger, ping{})
	}))
	return harness{
		run: func(n int) {
			d := make(chan struct{})
			sys.Root.Send(pinger, startPing{n: n, done: d})
			<-d
		},
		stop: func() { stopProto(tb, sys, ponger, pinger) },
	}
}
