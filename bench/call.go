package bench

import (
	"context"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	"github.com/gotp-dev/gotp/actor"
)

// Call: a synchronous request/reply round trip to a gen_server (an echo
// server). One op is one call.
//
//   - gotp_from_goroutine: the benchmark goroutine calls Node.Call.
//   - gotp_from_process: a caller gen_server, asked once, makes b.N calls with
//     Process.Call to the echo server before it replies.
//   - protoactor_requestfuture: the benchmark goroutine calls
//     RootContext.RequestFuture(...).Result(); the actor answers with Respond.
//   - chan_roundtrip: the raw Go baseline, two channels: the caller sends a
//     request carrying its reply channel to a server goroutine, which answers
//     on it.

type (
	echoReq struct{}
	// loopReq asks the caller server to make n calls to the echo server.
	loopReq struct{ n int }
)

type echoServer struct{}

func (echoServer) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) {
	return req, nil
}

// callerServer answers loopReq{n} after calling echo n times.
type callerServer struct{ echo actor.PID }

func (s *callerServer) HandleCall(p *actor.Process, _ actor.From, req any) (any, error) {
	m, ok := req.(loopReq)
	if !ok {
		return nil, nil
	}
	ctx := context.Background()
	for range m.n {
		if _, err := p.Call(ctx, s.echo, echoReq{}); err != nil {
			return err, nil
		}
	}
	return m.n, nil
}

func gotpCallFromGoroutine(tb testing.TB) harness {
	node := newGotpNode(tb)
	echo, err := node.Spawn(actor.Server(echoServer{}))
	if err != nil {
		tb.Fatal(err)
	}
	return harness{
		run: func(n int) {
			ctx := context.Background()
			for range n {
				if _, err := node.Call(ctx, echo, echoReq{}); err != nil {
					panic(err)
				}
			}
		},
		stop: func() { stopGotpNode(tb, node) },
	}
}

func gotpCallFromProcess(tb testing.TB) harness {
	node := newGotpNode(tb)
	echo, err := node.Spawn(actor.Server(echoServer{}))
	if err != nil {
		tb.Fatal(err)
	}
	caller, err := node.Spawn(actor.Server(&callerServer{echo: echo}))
	if err != nil {
		tb.Fatal(err)
	}
	return harness{
		run: func(n int) {
			got, err := node.Call(context.Background(), caller, loopReq{n: n})
			if err != nil {
				panic(err)
			}
			if got != n {
				panic("caller server made the wrong number of calls")
			}
		},
		stop: func() { stopGotpNode(tb, node) },
	}
}

func protoRequestFuture(tb testing.TB) harness {
	sys := newProtoSystem()
	echo := sys.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		if _, ok := ctx.Message().(echoReq); ok {
			ctx.Respond(ctx.Message())
		}
	}))
	return harness{
		run: func(n int) {
			for range n {
				if _, err := sys.Root.RequestFuture(echo, echoReq{}, 10*time.Second).Result(); err != nil {
					panic(err)
				}
			}
		},
		stop: func() { stopProto(tb, sys, echo) },
	}
}

// chanRequest is the raw baseline's request: the payload and where to answer.
type chanRequest struct {
	msg   any
	reply chan any
}

func chanRoundTrip(testing.TB) harness {
	requests := make(chan chanRequest)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range requests {
			r.reply <- r.msg
		}
	}()
	return harness{
		run: func(n int) {
			reply := make(chan any)
			for range n {
				requests <- chanRequest{msg: echoReq{}, reply: reply}
				<-reply
			}
		},
		stop: func() { close(requests); <-done },
	}
}
