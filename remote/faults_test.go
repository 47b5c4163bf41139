package remote_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
	"google.golang.org/protobuf/proto"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
)

// logBuffer collects log records for assertions.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters map[string]chan struct{}
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	for s, ch := range l.waiters {
		if strings.Contains(l.buf.String(), s) {
			close(ch)
			delete(l.waiters, s)
		}
	}
	return n, err
}

// seen returns a channel closed once the log contains s.
func (l *logBuffer) seen(s string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	if strings.Contains(l.buf.String(), s) {
		close(ch)
		return ch
	}
	if l.waiters == nil {
		l.waiters = make(map[string]chan struct{})
	}
	l.waiters[s] = ch
	return ch
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func TestConnectionLossFiresNoConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(7)
		a, b := startNode(t, net, "a", remote.Config{}), startNode(t, net, "b", remote.Config{})
		connect(t, a, b)
		events := make(chan remote.Event, 4)
		a.r.Subscribe(func(e remote.Event) { events <- e })

		server, _ := b.Spawn(actor.Server(&deferring{}))
		bystander, _ := b.Spawn(actor.Server(&echo{}))
		pr := spawnProbe(t, a, actor.WithTrapExit())
		var ref actor.Ref
		pr.do(t, a, func(p *actor.Process) {
			_ = p.Link(server)
			ref = p.Monitor(server)
			p.MonitorNode("b")
		})
		callErr := make(chan error, 1)
		go func() {
			// The server never answers: only the lost connection ends this.
			_, err := a.Call(context.Background(), server, "wait")
			callErr <- err
		}()
		synctest.Wait()

		net.Disconnect("a", "b")

		got := map[string]bool{}
		for range 3 {
			switch m := pr.recv(t).(type) {
			case actor.ExitMessage:
				if m.From != server || !errors.Is(m.Reason, actor.ErrNoConnection) {
					t.Fatalf("exit %+v", m)
				}
				got["exit"] = true
			case actor.DownMessage:
				if m.Ref != ref || !errors.Is(m.Reason, actor.ErrNoConnection) {
					t.Fatalf("down %+v", m)
				}
				got["down"] = true
			case actor.NodeDownMessage:
				if m.Node != "b" {
					t.Fatalf("nodedown %+v", m)
				}
				got["nodedown"] = true
			default:
				t.Fatalf("unexpected %T %v", m, m)
			}
		}
		if len(got) != 3 {
			t.Fatalf("got %v", got)
		}
		if err := <-callErr; !errors.Is(err, actor.ErrNoConnection) {
			t.Fatalf("pending call ended with %v", err)
		}
		e := <-events
		if e.Kind != remote.PeerDown || e.Peer.Name != "b" {
			t.Fatalf("event %+v", e)
		}
		// On b the link fired too: the server, which does not trap exits,
		// died with noconnection. An unlinked process is reached again.
		// (The call finds it gone, or meets it dying of exactly that.)
		_, err := a.Call(context.Background(), server, "ping")
		var exit *actor.ExitError
		if !errors.Is(err, actor.ErrNoProc) && !(errors.As(err, &exit) && errors.Is(exit.Reason, actor.ErrNoConnection)) {
			t.Fatalf("linked server after the loss: %v", err)
		}
		if reply, err := a.Call(context.Background(), bystander, "ping"); err != nil || reply != "ping" {
			t.Fatalf("call after reconnect: %v, %v", reply, err)
		}
	})
}

// deferring answers "wait" never and anything else at once.
type deferring struct{}

func (deferring) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	if req == "wait" {
		return actor.NoReply, nil
	}
	return req, nil
}

func TestNodeRestartHasNewCreation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(3)
		a := startNode(t, net, "a", remote.Config{})
		b1 := startNode(t, net, "b", remote.Config{})
		connect(t, a, b1)
		old, _ := b1.Spawn(actor.Server(&echo{}))
		if _, err := a.Call(context.Background(), old, "x"); err != nil {
			t.Fatal(err)
		}
		b1.r.Stop()
		if err := b1.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()

		b2 := startNode(t, net, "b", remote.Config{})
		if b2.Creation() == b1.Creation() {
			t.Fatal("same creation after restart")
		}
		// The new life spawns a process with the same id as the old one.
		fresh, _ := b2.Spawn(actor.Server(&echo{}))
		if fresh.ID != old.ID {
			t.Fatalf("test assumes id reuse across lives: %v vs %v", fresh, old)
		}
		_, err := a.Call(context.Background(), old, "x")
		if !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("call to old life's pid: %v", err)
		}
		pr := spawnProbe(t, a)
		pr.do(t, a, func(p *actor.Process) { p.Monitor(old) })
		if d := pr.recv(t).(actor.DownMessage); !errors.Is(d.Reason, actor.ErrNoProc) {
			t.Fatalf("monitor of old pid: %+v", d)
		}
		if reply, err := a.Call(context.Background(), fresh, "new"); err != nil || reply != "new" {
			t.Fatalf("call to new life: %v, %v", reply, err)
		}
	})
}

func TestCookieMismatchRefused(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		var logA, logB logBuffer
		a := mk("a", remote.Config{Cookie: "one", Logger: logA.logger()})
		b := mk("b", remote.Config{Cookie: "two", Logger: logB.logger()})
		got := make(chan any, 1)
		server, _ := b.Spawn(actor.Server(&echo{got: got}))
		err := a.r.Connect(ctxT(t), b.r.Spec())
		if !errors.Is(err, remote.ErrBadCookie) {
			t.Fatalf("connect with wrong cookie: %v", err)
		}
		// A message to the refusing node goes nowhere.
		a.r.Learn(b.r.Spec())
		_ = a.Send(server, "sneaky")
		// The call fails with noconnection and says why.
		if _, err := a.Call(ctxT(t), server, "x"); !errors.Is(err, actor.ErrNoConnection) || !errors.Is(err, remote.ErrBadCookie) ||
			!strings.Contains(err.Error(), server.String()) {
			t.Fatalf("call over refused connection: %v, want noconnection for %v wrapping the cookie mismatch", err, server)
		}
		select {
		case m := <-got:
			t.Fatalf("server received %v over a refused connection", m)
		default:
		}
		// Both sides log why (each waits until its side has written it).
		<-logA.seen("cookie mismatch")
		<-logB.seen("cookie mismatch")
	})
}

func TestOversizeMessageIsSenderError(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a := mk("a", remote.Config{MaxFrameSize: 4096})
		b := mk("b", remote.Config{MaxFrameSize: 4096})
		connect(t, a, b)
		server, _ := b.Spawn(actor.Server(&echo{}))
		err := a.Send(server, make([]byte, 8192))
		if !errors.Is(err, transport.ErrFrameTooLarge) {
			t.Fatalf("oversize send: %v", err)
		}
		_, err = a.Call(ctxT(t), server, make([]byte, 8192))
		if !errors.Is(err, transport.ErrFrameTooLarge) {
			t.Fatalf("oversize call: %v", err)
		}
		if reply, err := a.Call(ctxT(t), server, "still fine"); err != nil || reply != "still fine" {
			t.Fatalf("after oversize: %v, %v", reply, err)
		}
	})
}

type unregistered struct{ X int }

type flaky struct{ N int }

// flaky encodes on every node and decodes on none, which is what a type
// registered only on the sender's side looks like to the receiver.
var _ = func() error {
	return wire.RegisterCodec("remote_test.flaky",
		func(f flaky) ([]byte, error) { return []byte{byte(f.N)}, nil },
		func([]byte) (flaky, error) { return flaky{}, errors.New("cannot decode flaky here") })
}()

func TestUnknownTypes(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		connect(t, a, b)
		server, _ := b.Spawn(actor.Server(&echo{}))
		if err := a.Send(server, unregistered{1}); !errors.Is(err, wire.ErrUnknownType) {
			t.Fatalf("send of unregistered type: %v", err)
		}
		if _, err := a.Call(ctxT(t), server, unregistered{1}); !errors.Is(err, wire.ErrUnknownType) {
			t.Fatalf("call with unregistered type: %v", err)
		}
		// Encodes here, does not decode there: the caller hears why.
		_, err := a.Call(ctxT(t), server, flaky{1})
		if err == nil || !strings.Contains(err.Error(), "cannot decode flaky here") {
			t.Fatalf("call with undecodable type: %v", err)
		}
		// A plain send of it is dropped, and the connection carries on.
		if err := a.Send(server, flaky{2}); err != nil {
			t.Fatal(err)
		}
		if reply, err := a.Call(ctxT(t), server, "after"); err != nil || reply != "after" {
			t.Fatalf("after undecodable: %v, %v", reply, err)
		}
	})
}

func TestMalformedFrameClosesOnlyThatConnection(t *testing.T) {
	frames := []struct {
		name  string
		frame []byte
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}},
		// An EnvReply with no Ref: once delivered with an empty destination
		// and forwarded again forever, until the stack limit killed the node.
		{"reply without a ref", []byte{0x0a, 0x02, 0x08, 0x0a}},
		{"alias down without a ref", envelopeFrame(t, &wirepb.Envelope{Kind: wirepb.Kind_KIND_DOWN, Alias: true})},
		{"call without a ref", envelopeFrame(t, &wirepb.Envelope{Kind: wirepb.Kind_KIND_CALL, To: &wirepb.Pid{Node: "b", Id: 1}})},
		{"message to no one", envelopeFrame(t, &wirepb.Envelope{Kind: wirepb.Kind_KIND_MESSAGE})},
		{"monitor from this node itself", envelopeFrame(t, &wirepb.Envelope{Kind: wirepb.Kind_KIND_MONITOR,
			From: &wirepb.Pid{Node: "b", Id: 1}, To: &wirepb.Pid{Node: "b", Id: 1}, Ref: &wirepb.Ref{Node: "b", Id: 5}})},
	}
	for _, tc := range frames {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := transport.NewNetwork(11)
				var logB logBuffer
				a := startNode(t, net, "a", remote.Config{})
				b := startNode(t, net, "b", remote.Config{Logger: logB.logger()})
				c := startNode(t, net, "c", remote.Config{})
				connect(t, a, b)
				connect(t, c, b)
				server, _ := b.Spawn(actor.Server(&echo{}))
				var armed atomic.Bool
				net.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
					if from == "a" && to == "b" && armed.CompareAndSwap(true, false) {
						return tc.frame, true
					}
					return frame, true
				})
				down := make(chan remote.Event, 2)
				a.r.Subscribe(func(e remote.Event) { down <- e })
				armed.Store(true)
				_ = a.Send(server, "mangled")
				if e := <-down; e.Kind != remote.PeerDown {
					t.Fatalf("event %+v", e)
				}
				<-logB.seen("malformed")
				// c's connection was untouched and b still works for a after redialing.
				if reply, err := c.Call(context.Background(), server, "c"); err != nil || reply != "c" {
					t.Fatalf("c: %v, %v", reply, err)
				}
				if reply, err := a.Call(context.Background(), server, "a"); err != nil || reply != "a" {
					t.Fatalf("a after redial: %v, %v", reply, err)
				}
			})
		})
	}
}

// envelopeFrame encodes env as a whole frame, bypassing the encoder's checks.
func envelopeFrame(t *testing.T, env *wirepb.Envelope) []byte {
	t.Helper()
	b, err := proto.Marshal(&wirepb.Frame{Body: &wirepb.Frame_Envelope{Envelope: env}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A subscriber hears a peer's events in the order they happened: a session's
// down before the next session's up, however quickly the peer comes back
// (here it dials again within a millisecond, racing this node's own handling
// of the loss).
func TestPeerEventsKeepTheirOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(77)
		a, b := startNode(t, net, "a", remote.Config{}), startNode(t, net, "b", remote.Config{})
		if _, err := a.Spawn(actor.Func(func(*actor.Process, any) error { return nil }), actor.WithName("sink")); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var seen []remote.EventKind
		a.r.Subscribe(func(e remote.Event) {
			mu.Lock()
			seen = append(seen, e.Kind)
			mu.Unlock()
		})
		connect(t, b, a)
		// b keeps sending to a: after each loss its next send dials again.
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
				_ = b.Send(actor.Name{Node: "a", Name: "sink"}, "x")
			}
		}()
		for range 200 {
			time.Sleep(5 * time.Millisecond)
			net.Disconnect("a", "b")
		}
		close(stop)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		for i, k := range seen {
			want := remote.PeerUp
			if i%2 == 1 {
				want = remote.PeerDown
			}
			if k != want {
				t.Fatalf("event %d is %v, want %v (events: %v)", i, k, want, seen)
			}
		}
		if len(seen) < 200 {
			t.Fatalf("only %d events: %v", len(seen), seen)
		}
	})
}
