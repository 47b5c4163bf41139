package remote_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// startImpostor starts a node that calls itself name with the given creation
// and the test cookie, dialing from its own address on net.
func startImpostor(t *testing.T, net *transport.Network, name string, creation uint32, addr string) *testNode {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name, Creation: creation})
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.Start(n, remote.Config{Transport: net.Transport(addr), NoListen: true, Cookie: "test-cookie"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		_ = n.Stop(context.Background())
	})
	return &testNode{Node: n, r: r}
}

// Point 8: a cookie holder that claims a live peer's name and creation is
// refused: it neither delivers into the session nor, by hanging up, ends it.
func TestCookieHolderCannotJoinALiveSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(21)
		a, b := startNode(t, net, "a", remote.Config{}), startNode(t, net, "b", remote.Config{})
		connect(t, a, b)
		// b reports a up once its side of the handshake is recorded, which
		// may come after a's Connect returned: let it, before listening.
		synctest.Wait()
		events := make(chan remote.Event, 8)
		b.r.Subscribe(func(e remote.Event) { events <- e })
		pr := spawnProbe(t, b)

		evil := startImpostor(t, net, "a", a.Creation(), "mallory")
		err := evil.r.Connect(context.Background(), b.r.Spec())
		if !errors.Is(err, remote.ErrSessionProof) {
			t.Fatalf("impostor's connect: %v, want %v", err, remote.ErrSessionProof)
		}
		_ = evil.Send(pr.pid, "forged")
		synctest.Wait()
		evil.r.Stop()
		synctest.Wait()

		if err := a.Send(pr.pid, "real"); err != nil {
			t.Fatal(err)
		}
		if got := pr.recv(t); got != "real" {
			t.Fatalf("b received %#v from the session, want only a's message", got)
		}
		synctest.Wait()
		select {
		case e := <-events:
			t.Fatalf("b's session with a changed: %+v", e)
		case m := <-pr.ch:
			t.Fatalf("b received %#v", m)
		default:
		}
		if !b.r.IsConnected("a") || !a.r.IsConnected("b") {
			t.Fatal("the real session went down")
		}
	})
}

// Point 8: the real peer still reconnects after it saw the session end while
// this side did not: it proves it knew the session.
func TestProvenReconnectReplacesAHalfOpenSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(22)
		// a notices silence after 4 s; b only after an hour, and a's
		// closing its connections does not reach b: half open.
		b := startNode(t, net, "b", remote.Config{NetTickTime: time.Hour})
		a := startNode(t, nil, "a", remote.Config{NetTickTime: 4 * time.Second, Transport: quietClose{net.Transport("a")}, NoListen: true})
		// Subscribed before the first session: b's up for it may be emitted
		// after a's Connect returns, so a later subscriber could hear it.
		events := make(chan remote.Event, 8)
		b.r.Subscribe(func(e remote.Event) { events <- e })
		connect(t, a, b)
		pr := spawnProbe(t, b)
		w := spawnProbe(t, a)
		w.do(t, a, func(p *actor.Process) { p.Monitor(pr.pid) })

		net.Partition([]string{"a"}, []string{"b"})
		if d, ok := w.recv(t).(actor.DownMessage); !ok || !errors.Is(d.Reason, actor.ErrNoConnection) {
			t.Fatalf("a's watcher got %#v, want a noconnection DOWN", d)
		}
		if !b.r.IsConnected("a") {
			t.Fatal("b noticed the silence; the test needs it not to")
		}
		net.Heal()
		if err := a.r.Connect(context.Background(), b.r.Spec()); err != nil {
			t.Fatalf("reconnect: %v", err)
		}
		if err := a.Send(pr.pid, "again"); err != nil {
			t.Fatal(err)
		}
		if got := pr.recv(t); got != "again" {
			t.Fatalf("got %#v", got)
		}
		// b ended the old session (its side fired noconnection) and began the
		// new one.
		var kinds []remote.EventKind
		for len(kinds) < 3 {
			kinds = append(kinds, (<-events).Kind)
		}
		if !slices.Equal(kinds, []remote.EventKind{remote.PeerUp, remote.PeerDown, remote.PeerUp}) {
			t.Fatalf("b's events: %v, want up (the first session), down, up", kinds)
		}
	})
}

// quietClose is a transport whose connections, when closed, stop reading and
// writing here without telling the other end (which sees a connection that
// has gone silent).
type quietClose struct{ transport.Transport }

func (q quietClose) Dial(ctx context.Context, addr string) (transport.Conn, error) {
	c, err := q.Transport.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &quietConn{Conn: c}, nil
}

type quietConn struct {
	transport.Conn
	closed atomic.Bool
}

func (c *quietConn) Close() error { c.closed.Store(true); return nil }

func (c *quietConn) ReadFrame() ([]byte, error) {
	b, err := c.Conn.ReadFrame()
	if c.closed.Load() {
		return nil, transport.ErrClosed
	}
	return b, err
}

func (c *quietConn) WriteFrames(frames [][]byte) error {
	if c.closed.Load() {
		return transport.ErrClosed
	}
	return c.Conn.WriteFrames(frames)
}
