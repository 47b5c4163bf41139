package remote_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// viaPolicy sends everything through one relay node and refuses direct
// connections from one named node, as a client-server topology does.
type viaPolicy struct {
	relay  string
	refuse string
}

func (v viaPolicy) Accept(peer remote.NodeSpec) error {
	if peer.Name == v.refuse {
		return &remote.Refusal{Reason: "clients talk through the server", Referral: remote.NodeSpec{Name: v.relay}}
	}
	return nil
}

func (v viaPolicy) Route(dest string) (string, error) {
	if dest == v.relay {
		return dest, nil
	}
	return v.relay, nil
}

func TestRelayThroughThirdNode(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		s := mk("server", remote.Config{})
		a := mk("a", remote.Config{Policy: viaPolicy{relay: "server", refuse: "c"}})
		c := mk("c", remote.Config{Policy: viaPolicy{relay: "server"}})
		connect(t, a, s)
		connect(t, c, s)
		// s knows both and connects on demand when it relays.
		s.r.Learn(a.r.Spec())
		s.r.Learn(c.r.Spec())

		// A direct connection from c to a is refused with a referral.
		err := c.r.Connect(ctxT(t), a.r.Spec())
		var ref *remote.Refusal
		if !errors.As(err, &ref) || ref.Referral.Name != "server" {
			t.Fatalf("direct connect: %v", err)
		}

		rcv := spawnProbe(t, a)
		server, _ := a.Spawn(actor.Server(&echo{}))
		snd := spawnProbe(t, c)
		const n = 500
		snd.do(t, c, func(p *actor.Process) {
			for i := range n {
				if err := p.Send(rcv.pid, int64(i)); err != nil {
					t.Errorf("send %d: %v", i, err)
					return
				}
			}
		})
		for i := range n {
			if got := rcv.recv(t); got != int64(i) {
				t.Fatalf("relayed message %d arrived as %v", i, got)
			}
		}
		// Calls, and their replies, go through the relay both ways.
		if reply, err := c.Call(ctxT(t), server, "relayed"); err != nil || reply != "relayed" {
			t.Fatalf("relayed call: %v, %v", reply, err)
		}
		if c.r.IsConnected("a") || a.r.IsConnected("c") {
			t.Fatal("a and c connected directly")
		}
		// A monitor across the relay reports the target's exit.
		snd.do(t, c, func(p *actor.Process) { p.Monitor(server) })
		if _, err := c.Call(ctxT(t), server, "sync"); err != nil {
			t.Fatal(err)
		}
		if err := a.Exit(server, actor.Kill); err != nil {
			t.Fatal(err)
		}
		if d := snd.recv(t).(actor.DownMessage); !errors.Is(d.Reason, actor.Killed) {
			t.Fatalf("down across relay: %+v", d)
		}
	})
}

// stallTo wraps a transport so that a test can hold every write to one
// address (after the handshakes), as a destination that stops reading does.
type stallTo struct {
	transport.Transport
	to   string
	mu   sync.Mutex
	gate chan struct{} // nil: not stalled
}

func (s *stallTo) stall() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

func (s *stallTo) release() {
	s.mu.Lock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
	s.mu.Unlock()
}

func (s *stallTo) Listen(addr string) (transport.Listener, error) {
	l, err := s.Transport.Listen(addr)
	if err != nil {
		return nil, err
	}
	return &stallListener{Listener: l, s: s}, nil
}

type stallListener struct {
	transport.Listener
	s *stallTo
}

func (l *stallListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return &stallConn{Conn: c, s: l.s}, nil
}

type stallConn struct {
	transport.Conn
	s *stallTo
}

func (c *stallConn) WriteFrames(frames [][]byte) error {
	c.s.mu.Lock()
	gate := c.s.gate
	c.s.mu.Unlock()
	if gate != nil && c.RemoteAddr() == c.s.to {
		<-gate
	}
	return c.Conn.WriteFrames(frames)
}

// Point 15: a relay whose connection to one destination is stalled keeps
// relaying everything else its sources send; the source flooding that
// destination is held back (its sends to it fail with ErrSendQueueFull), and
// nothing it was allowed to send is lost or reordered.
func TestASlowDestinationHoldsBackOnlyItsOwnRelayedTraffic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(24)
		st := &stallTo{Transport: net.Transport("server"), to: "d"}
		s := startNode(t, nil, "server", remote.Config{Transport: st, Listen: []string{"server"}, SendQueueBytes: 4 << 10})
		via := remote.Config{Policy: viaPolicy{relay: "server"}, NoListen: true}
		a, c, d := startNode(t, net, "a", via), startNode(t, net, "c", via), startNode(t, net, "d", via)
		for _, n := range []*testNode{a, c, d} {
			connect(t, n, s)
		}
		toA, toD := spawnProbe(t, a), spawnProbe(t, d)
		server, _ := a.Spawn(actor.Server(&echo{}))
		st.stall()
		t.Cleanup(st.release)

		payload := make([]byte, 512)
		sent := 0
		for {
			err := c.r.Send(context.Background(), actor.PID{}, toD.pid, append([]byte(nil), byte(sent), byte(sent>>8)), remote.SendOptions{})
			if errors.Is(err, remote.ErrSendQueueFull) {
				break
			}
			if err != nil {
				t.Fatalf("send %d: %v", sent, err)
			}
			if err := c.r.Send(context.Background(), actor.PID{}, toD.pid, payload, remote.SendOptions{}); err != nil {
				t.Fatalf("payload after %d: %v", sent, err)
			}
			sent++
			synctest.Wait() // the relay's answer has reached c
			if sent > 1000 {
				t.Fatal("the source was never held back: 1000 messages for a stalled destination accepted")
			}
		}
		// Everything else c sends through the relay still goes.
		if err := c.r.Send(context.Background(), actor.PID{}, toA.pid, "to a", remote.SendOptions{}); err != nil {
			t.Fatalf("send to a while d is stalled: %v", err)
		}
		select {
		case m := <-toA.ch:
			if m != "to a" {
				t.Fatalf("a got %#v", m)
			}
		case <-time.After(time.Minute):
			t.Fatal("a message to a waited behind the stalled destination")
		}
		if reply, err := c.Call(ctxT(t), server, "call"); err != nil || reply != "call" {
			t.Fatalf("call to a while d is stalled: %v, %v", reply, err)
		}

		// Released, d gets all that was accepted, in order, and c may send
		// to it again.
		st.release()
		for i := range sent {
			m := toD.recv(t).([]byte)
			if len(m) != 2 || int(m[0])|int(m[1])<<8 != i {
				t.Fatalf("message %d for d arrived as %v", i, m)
			}
			if p := toD.recv(t).([]byte); len(p) != len(payload) {
				t.Fatalf("payload %d: %d bytes", i, len(p))
			}
		}
		synctest.Wait()
		if err := c.r.Send(context.Background(), actor.PID{}, toD.pid, []byte("after"), remote.SendOptions{}); err != nil {
			t.Fatalf("send to d after the stall: %v", err)
		}
		if m := toD.recv(t).([]byte); string(m) != "after" {
			t.Fatalf("got %q", m)
		}
		t.Logf("held back after %d messages (%d B queued for d at the relay)", sent, sent*(512+2))
	})
}

// A node reached only through a relay has no connection of its own to lose:
// when the layer above learns it is down (the peer service's failure
// detector), DeclareDown fires every link, monitor and call toward it.
func TestDeclareDownFiresForARelayedNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(26)
		s := startNode(t, net, "server", remote.Config{})
		via := remote.Config{Policy: viaPolicy{relay: "server"}}
		a, c := startNode(t, net, "a", via), startNode(t, net, "c", via)
		connect(t, a, s)
		connect(t, c, s)
		target, _ := a.Spawn(actor.Server(silent{}))
		w := spawnProbe(t, c)
		w.do(t, c, func(p *actor.Process) { p.Monitor(target) })
		callErr := make(chan error, 1)
		go func() {
			_, err := c.Call(actor.WithoutCallTimeout(context.Background()), target, "hello?")
			callErr <- err
		}()
		synctest.Wait()
		if c.r.IsConnected("a") {
			t.Fatal("c must reach a only through the server")
		}
		cause := errors.New("failure detector: a missed its heartbeats")
		c.r.DeclareDown("a", cause)
		d, ok := w.recv(t).(actor.DownMessage)
		if !ok || !errors.Is(d.Reason, actor.ErrNoConnection) {
			t.Fatalf("watcher got %#v, want a noconnection DOWN", d)
		}
		if err := <-callErr; !errors.Is(err, actor.ErrNoConnection) || !errors.Is(err, cause) {
			t.Fatalf("pending call: %v, want noconnection with the cause", err)
		}
		// The relay still works for a new session.
		if reply, err := c.Call(ctxT(t), server0(t, a), "x"); err != nil || reply != "x" {
			t.Fatalf("after: %v, %v", reply, err)
		}
	})
}

// server0 spawns an echo server on n.
func server0(t *testing.T, n *testNode) actor.PID {
	t.Helper()
	pid, err := n.Spawn(actor.Server(&echo{}))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
