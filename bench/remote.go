package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	paremote "github.com/asynkron/protoactor-go/remote"
	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Remote: two nodes (gotp) or two actor systems (protoactor-go) in this one
// OS process, connected over loopback TCP.
//
// RemoteSend: P sender→receiver pairs. Each sender lives on the first node
// and sends its share of b.N messages (a []byte payload for gotp, a
// wrapperspb.BytesValue for protoactor-go, of 64 B or 1 KiB) to its receiver
// on the second node, which counts them; an op ends when every receiver has
// counted every message. One op is one message; reports msgs/s.
//
//   - gotp: senders are processes looping over Process.Send to the remote PID.
//     A connection's send queue is bounded (remote.Config.SendQueueBytes,
//     8 MiB by default) and a full queue fails the send with
//     remote.ErrSendQueueFull (the default FullQueueError); the sender then
//     calls runtime.Gosched and retries the same message. (FullQueueBlock would
//     wait instead, but it sets up a context.WithTimeout on every send through
//     the actor API, full queue or not.) Default channel, one connection.
//   - protoactor: senders are actors looping over Context.Send to the remote
//     PID. Its endpoint writer's mailbox is unbounded and batches up to 1000
//     messages per gRPC stream Send (its defaults).
//
//   - raw: the baseline (raw.go): length-prefixed frames through bufio
//     on a loopback TCP connection per pair, nothing else.
//
// RemoteCall: one caller, sequential synchronous calls to an echo server on
// the other node, with a 64 B payload; each call's duration is recorded and
// p50-ns, p99-ns and calls/s are reported.
//
//   - gotp: Node.Call from the benchmark goroutine to an echo gen_server.
//   - protoactor: RootContext.RequestFuture(...).Result() from the benchmark
//     goroutine; the echo actor answers with Respond.

var (
	remotePairs    = []int{1, 8}
	remotePayloads = []int{64, 1024}
)

const remoteCookie = "bench-cookie"

// remoteCounter is a receiver's state. The harness arms it before the
// senders start; the receiver hits it once per message. A mutex (never
// contended: one receiver per counter) keeps the race detector content, since
// nothing else orders the harness's write with the receiver's reads.
type remoteCounter struct {
	mu   sync.Mutex
	left int
	done chan struct{}
}

func (c *remoteCounter) arm(n int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.left, c.done = n, make(chan struct{})
	if n == 0 {
		close(c.done)
	}
	return c.done
}

func (c *remoteCounter) hit() {
	c.mu.Lock()
	c.left--
	if c.left == 0 {
		close(c.done)
	}
	c.mu.Unlock()
}

// burst tells a sender (a local message, never on the wire) to send msg n
// times to to, then report on sent.
type burst[P any] struct {
	n    int
	to   P
	msg  any
	sent chan<- error
}

// share is sender i's part of n messages split over pairs senders.
func share(n, pairs, i int) int {
	s := n / pairs
	if i < n%pairs {
		s++
	}
	return s
}

// runPairs arms the counters, starts the senders with start(i, n_i) and
// waits until every sender has reported and every receiver has counted.
func runPairs(n int, counters []*remoteCounter, start func(i, n int, sent chan<- error)) {
	pairs := len(counters)
	sent := make(chan error, pairs)
	dones := make([]<-chan struct{}, pairs)
	for i, c := range counters {
		dones[i] = c.arm(share(n, pairs, i))
	}
	for i := range pairs {
		start(i, share(n, pairs, i), sent)
	}
	for range pairs {
		if err := <-sent; err != nil {
			panic(err)
		}
	}
	for _, d := range dones {
		select {
		case <-d:
		case <-time.After(2 * time.Minute):
			panic("remote receiver did not get all messages")
		}
	}
}

// newGotpPair starts two nodes with distribution over loopback TCP and
// connects the first to the second.
func newGotpPair(tb testing.TB) (a, b *actor.Node, ra, rb *remote.Remote) {
	tb.Helper()
	start := func(name string) (*actor.Node, *remote.Remote) {
		n, err := actor.NewNode(actor.Config{Name: name, Logger: discard})
		if err != nil {
			tb.Fatal(err)
		}
		r, err := remote.Start(n, remote.Config{Cookie: remoteCookie, Listen: []string{"127.0.0.1:0"}})
		if err != nil {
			tb.Fatal(err)
		}
		return n, r
	}
	a, ra = start("sender@localhost")
	b, rb = start("receiver@localhost")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ra.Connect(ctx, rb.Spec()); err != nil {
		tb.Fatal(err)
	}
	return a, b, ra, rb
}

func stopGotpPair(tb testing.TB, a, b *actor.Node, ra, rb *remote.Remote) {
	ra.Stop()
	rb.Stop()
	stopGotpNode(tb, a)
	stopGotpNode(tb, b)
}

func gotpRemoteSend(tb testing.TB, pairs, payload int) harness {
	a, b, ra, rb := newGotpPair(tb)
	msg := make([]byte, payload)
	counters := make([]*remoteCounter, pairs)
	receivers := make([]actor.PID, pairs)
	senders := make([]actor.PID, pairs)
	for i := range pairs {
		c := &remoteCounter{}
		counters[i] = c
		pid, err := b.Spawn(actor.Func(func(_ *actor.Process, m any) error {
			if _, ok := m.([]byte); ok {
				c.hit()
			}
			return nil
		}))
		if err != nil {
			tb.Fatal(err)
		}
		receivers[i] = pid
		senders[i], err = a.Spawn(actor.Func(gotpRemoteSender))
		if err != nil {
			tb.Fatal(err)
		}
	}
	h := harness{
		run: func(n int) {
			runPairs(n, counters, func(i, n int, sent chan<- error) {
				err := a.Send(senders[i], burst[actor.PID]{n: n, to: receivers[i], msg: msg, sent: sent})
				if err != nil {
					panic(err)
				}
			})
		},
		stop: func() { stopGotpPair(tb, a, b, ra, rb) },
	}
	h.run(16 * pairs) // warm up: the connection and the receivers' first wake-ups
	return h
}

// gotpRemoteSender sends a burst, retrying a message that finds the
// connection's send queue full.
func gotpRemoteSender(p *actor.Process, m any) error {
	switch bu := m.(type) {
	case burst[actor.PID]:
		sendBurst(p, bu.n, bu.to, bu.msg, bu.sent)
	case burst[actor.Dest]:
		sendBurst(p, bu.n, bu.to, bu.msg, bu.sent)
	}
	return nil
}

func sendBurst(p *actor.Process, n int, to actor.Dest, msg any, sent chan<- error) {
	for i := 0; i < n; {
		err := p.Send(to, msg)
		switch {
		case err == nil:
			i++
		case errors.Is(err, remote.ErrSendQueueFull):
			runtime.Gosched()
		default:
			sent <- err
			return
		}
	}
	sent <- nil
}

// newProtoPair starts two protoactor-go actor systems with remoting on
// loopback ports chosen by the system.
func newProtoPair() (a, b *pa.ActorSystem, ra, rb *paremote.Remote) {
	a, b = newProtoSystem(), newProtoSystem()
	ra = paremote.NewRemote(a, paremote.Configure("127.0.0.1", 0))
	ra.Start()
	rb = paremote.NewRemote(b, paremote.Configure("127.0.0.1", 0))
	rb.Start()
	return a, b, ra, rb
}

// stopProtoPair stops both systems. Remote.Shutdown(true) (graceful) can
// panic with "send on closed channel" in endpointManager.stop when the peer's
// stream has already ended (seen once in a benchmark run), so the servers are
// stopped without it.
func stopProtoPair(a, b *pa.ActorSystem, ra, rb *paremote.Remote) {
	ra.Shutdown(false)
	rb.Shutdown(false)
	a.Shutdown()
	b.Shutdown()
}

func protoRemoteSend(tb testing.TB, pairs, payload int) harness {
	a, b, ra, rb := newProtoPair()
	msg := &wrapperspb.BytesValue{Value: make([]byte, payload)}
	counters := make([]*remoteCounter, pairs)
	receivers := make([]*pa.PID, pairs)
	senders := make([]*pa.PID, pairs)
	for i := range pairs {
		c := &remoteCounter{}
		counters[i] = c
		receivers[i] = b.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
			if _, ok := ctx.Message().(*wrapperspb.BytesValue); ok {
				c.hit()
			}
		}))
		senders[i] = a.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
			bu, ok := ctx.Message().(burst[*pa.PID])
			if !ok {
				return
			}
			for range bu.n {
				ctx.Send(bu.to, bu.msg)
			}
			bu.sent <- nil
		}))
	}
	h := harness{
		run: func(n int) {
			runPairs(n, counters, func(i, n int, sent chan<- error) {
				a.Root.Send(senders[i], burst[*pa.PID]{n: n, to: receivers[i], msg: msg, sent: sent})
			})
		},
		stop: func() { stopProtoPair(a, b, ra, rb) },
	}
	h.run(16 * pairs)
	return h
}

// remoteCaller makes one call per call(); stop releases what setup made.
type remoteCaller struct {
	call func() error
	stop func()
}

// runRemoteCall makes b.N sequential calls, timing each one.
func runRemoteCall(b *testing.B, c remoteCaller) {
	b.Helper()
	defer c.stop()
	durs := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range durs {
		t0 := time.Now()
		if err := c.call(); err != nil {
			b.Fatal(err)
		}
		durs[i] = time.Since(t0)
	}
	b.StopTimer()
	p50, p99 := percentiles(durs)
	b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
	b.ReportMetric(perSecond(b, b.N), "calls/s")
}

// percentiles returns the 50th and 99th percentiles (nearest rank) of durs,
// which it sorts.
func percentiles(durs []time.Duration) (p50, p99 time.Duration) {
	if len(durs) == 0 {
		return 0, 0
	}
	slices.Sort(durs)
	rank := func(q int) time.Duration {
		i := (q*len(durs)+99)/100 - 1 // ceil(q/100 * n) - 1
		return durs[max(i, 0)]
	}
	return rank(50), rank(99)
}

const callPayload = 64

func gotpRemoteCall(tb testing.TB) remoteCaller {
	a, b, ra, rb := newGotpPair(tb)
	echo, err := b.Spawn(actor.Server(echoServer{}))
	if err != nil {
		tb.Fatal(err)
	}
	req := make([]byte, callPayload)
	ctx := context.Background()
	c := remoteCaller{
		call: func() error {
			got, err := a.Call(ctx, echo, req)
			if err != nil {
				return err
			}
			if r, ok := got.([]byte); !ok || len(r) != callPayload {
				return fmt.Errorf("echo answered %T", got)
			}
			return nil
		},
		stop: func() { stopGotpPair(tb, a, b, ra, rb) },
	}
	warmCalls(tb, c)
	return c
}

func protoRemoteCall(tb testing.TB) remoteCaller {
	a, b, ra, rb := newProtoPair()
	echo := b.Root.Spawn(pa.PropsFromFunc(func(ctx pa.Context) {
		if _, ok := ctx.Message().(*wrapperspb.BytesValue); ok {
			ctx.Respond(ctx.Message())
		}
	}))
	req := &wrapperspb.BytesValue{Value: make([]byte, callPayload)}
	c := remoteCaller{
		call: func() error {
			got, err := a.Root.RequestFuture(echo, req, 10*time.Second).Result()
			if err != nil {
				return err
			}
			if r, ok := got.(*wrapperspb.BytesValue); !ok || len(r.Value) != callPayload {
				return fmt.Errorf("echo answered %T", got)
			}
			return nil
		},
		stop: func() { stopProtoPair(a, b, ra, rb) },
	}
	warmCalls(tb, c)
	return c
}

// warmCalls makes a few calls so that connections in both directions are up
// before timing starts.
func warmCalls(tb testing.TB, c remoteCaller) {
	tb.Helper()
	for range 16 {
		if err := c.call(); err != nil {
			c.stop()
			tb.Fatal(err)
		}
	}
}
