package remote_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// gated wraps a transport so a test can hold every write of its connections
// (after the handshake) and count write calls and frames.
type gated struct {
	transport.Transport
	mu     sync.Mutex
	held   bool
	open   chan struct{}
	writes atomic.Int64
	frames atomic.Int64
}

func newGated(t transport.Transport) *gated {
	return &gated{Transport: t, open: make(chan struct{})}
}

func (g *gated) hold() {
	g.mu.Lock()
	g.held = true
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *gated) release() {
	g.mu.Lock()
	g.held = false
	close(g.open)
	g.mu.Unlock()
}

func (g *gated) Dial(ctx context.Context, addr string) (transport.Conn, error) {
	c, err := g.Transport.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, g: g}, nil
}

func (g *gated) Listen(addr string) (transport.Listener, error) {
	l, err := g.Transport.Listen(addr)
	if err != nil {
		return nil, err
	}
	return &gatedListener{Listener: l, g: g}, nil
}

type gatedListener struct {
	transport.Listener
	g *gated
}

func (l *gatedListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, g: l.g}, nil
}

type gatedConn struct {
	transport.Conn
	g *gated
}

func (c *gatedConn) WriteFrames(frames [][]byte) error {
	c.g.mu.Lock()
	held, open := c.g.held, c.g.open
	c.g.mu.Unlock()
	if held {
		<-open
	}
	c.g.writes.Add(1)
	c.g.frames.Add(int64(len(frames)))
	return c.Conn.WriteFrames(frames)
}

// gatedPair starts a and b on an in-memory network, a's transport gated, and
// connects them.
func gatedPair(t *testing.T, cfg remote.Config) (a, b *testNode, g *gated) {
	net := transport.NewNetwork(5)
	g = newGated(net.Transport("a"))
	cfg.Transport = g
	cfg.Listen = []string{"a"}
	a = startNode(t, nil, "a", cfg)
	b = startNode(t, net, "b", remote.Config{Channels: cfg.Channels})
	connect(t, a, b)
	return a, b, g
}

func TestChannelParallelism(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		chans := []remote.Channel{{Name: "bulk", Parallelism: 4}, {Name: remote.DefaultChannel, Parallelism: 2}}
		a := mk("a", remote.Config{Channels: chans})
		b := mk("b", remote.Config{Channels: chans})
		connect(t, a, b)
		if n := a.r.ConnectionCount("b", "bulk"); n != 4 {
			t.Fatalf("bulk connections = %d, want 4", n)
		}
		if n := a.r.ConnectionCount("b", remote.DefaultChannel); n != 2 {
			t.Fatalf("default connections = %d, want 2", n)
		}
		// Sends on every channel and key arrive; each key's stream in order.
		rcv := spawnProbe(t, b)
		ctx := ctxT(t)
		keys := []string{"k1", "k2", "k3", "k4", "k5"}
		for i := range 200 {
			key := keys[i%len(keys)]
			msg := []any{key, int64(i)}
			if err := a.r.Send(ctx, actor.PID{}, rcv.pid, msg, remote.SendOptions{Channel: "bulk", PartitionKey: key}); err != nil {
				t.Fatal(err)
			}
		}
		last := map[string]int64{}
		for range 200 {
			m := rcv.recv(t).([]any)
			key, i := m[0].(string), m[1].(int64)
			if prev, ok := last[key]; ok && i <= prev {
				t.Fatalf("key %s: %d after %d", key, i, prev)
			}
			last[key] = i
		}
		err := a.r.Send(ctx, actor.PID{}, rcv.pid, "x", remote.SendOptions{Channel: "nope"})
		if !errors.Is(err, remote.ErrUnknownChannel) {
			t.Fatalf("unknown channel: %v", err)
		}
	})
}

func TestWritesAreBatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, g := gatedPair(t, remote.Config{})
		rcv := spawnProbe(t, b)
		g.hold()
		for i := range 100 {
			if err := a.Send(rcv.pid, int64(i)); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait() // the writer is now waiting at the gate with its first batch
		w0 := g.writes.Load()
		g.release()
		for i := range 100 {
			if got := rcv.recv(t); got != int64(i) {
				t.Fatalf("message %d arrived as %v", i, got)
			}
		}
		if w := g.writes.Load() - w0; w > 2 {
			t.Fatalf("100 queued messages took %d writes, want at most 2", w)
		}
	})
}

func TestBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, g := gatedPair(t, remote.Config{MaxFrameSize: 2048, SendQueueBytes: 8192})
		rcv := spawnProbe(t, b)
		g.hold()
		// The first frame goes to the writer, which blocks at the gate; the
		// queue behind it fills to its bound.
		payload := make([]byte, 1000)
		_ = a.Send(rcv.pid, payload)
		synctest.Wait()
		sent := 1
		var err error
		for range 100 {
			if err = a.Send(rcv.pid, payload); err != nil {
				break
			}
			sent++
		}
		if !errors.Is(err, remote.ErrSendQueueFull) {
			t.Fatalf("send into full queue: %v", err)
		}
		if sent > 10 {
			t.Fatalf("%d sends accepted into an 8 KiB queue", sent)
		}
		// A blocking send waits until its context ends...
		ctx, cancel := context.WithTimeout(context.Background(), 1e9)
		err = a.r.Send(ctx, actor.PID{}, rcv.pid, payload, remote.SendOptions{Block: true})
		cancel()
		if !errors.Is(err, remote.ErrSendQueueFull) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("blocked send: %v", err)
		}
		// ...or until the writer makes room.
		done := make(chan error, 1)
		go func() {
			done <- a.r.Send(context.Background(), actor.PID{}, rcv.pid, "last", remote.SendOptions{Block: true})
		}()
		synctest.Wait()
		g.release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for range sent {
			if m, ok := rcv.recv(t).([]byte); !ok || len(m) != 1000 {
				t.Fatalf("got %T", m)
			}
		}
		if m := rcv.recv(t); m != "last" {
			t.Fatalf("got %v, want last", m)
		}
	})
}

func TestMonotonicChannelKeepsNewest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		chans := []remote.Channel{{Name: "gauge", Monotonic: true}}
		a, b, g := gatedPair(t, remote.Config{Channels: chans})
		rcv := spawnProbe(t, b)
		snd := spawnProbe(t, a)
		g.hold()
		snd.do(t, a, func(p *actor.Process) {
			for i := range 50 {
				_ = a.r.Send(context.Background(), p.Self(), rcv.pid, int64(i), remote.SendOptions{Channel: "gauge"})
			}
		})
		synctest.Wait()
		g.release()
		// Of 50 readings sent while the writer was held, only the newest is
		// sent, plus the one the writer had already taken, if any.
		var got []any
		for len(got) == 0 || got[len(got)-1] != int64(49) {
			got = append(got, rcv.recv(t))
			if len(got) > 2 {
				t.Fatalf("readings %v: older ones were not replaced", got)
			}
		}
		_ = a.Send(rcv.pid, "end")
		if m := rcv.recv(t); m != "end" {
			t.Fatalf("more readings than expected: %v", m)
		}
	})
}
