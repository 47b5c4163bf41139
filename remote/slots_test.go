package remote_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
)

// holdHello makes net hold the handshake hello of from's connections on
// channel until the returned function is called (or the test ends).
func holdHello(t *testing.T, net *transport.Network, from, channel string) (release func()) {
	gate := make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release)
	net.SetHook(func(f, to string, frame []byte) ([]byte, bool) {
		if f == from {
			if fr, err := wire.DecodeFrame(frame); err == nil && fr.GetHello().GetChannel() == channel {
				<-gate
			}
		}
		return frame, true
	})
	return release
}

// A node that cannot dial a peer back (the peer has no address: a client
// that only dials) needs a connection the peer has not finished opening yet.
// Its dial fails at once; what was queued on it goes over a connection of
// the peer that is up, and the peer stays up. (The relay benchmark lost
// messages and its session this way.)
func TestAFailedDialWhileThePeerIsUpLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(23)
		chans := []remote.Channel{{Name: remote.DefaultChannel, Parallelism: 1}, {Name: "bulk", Parallelism: 1}}
		a := startNode(t, net, "a", remote.Config{Channels: chans})
		b := startNode(t, net, "b", remote.Config{Channels: chans, NoListen: true})
		events := make(chan remote.Event, 8)
		a.r.Subscribe(func(e remote.Event) { events <- e })
		release := holdHello(t, net, "b", "bulk")
		connected := make(chan error, 1)
		go func() { connected <- b.r.Connect(context.Background(), a.r.Spec()) }()
		synctest.Wait()
		if a.r.ConnectionCount("b", remote.DefaultChannel) != 1 || a.r.ConnectionCount("b", "bulk") != 0 {
			t.Fatal("the test needs b's default connection up and its bulk one held")
		}
		if e := <-events; e.Kind != remote.PeerUp {
			t.Fatalf("event %+v", e)
		}

		pr := spawnProbe(t, b)
		if err := a.r.Send(context.Background(), actor.PID{}, pr.pid, "over bulk", remote.SendOptions{Channel: "bulk"}); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-pr.ch:
			if m != "over bulk" {
				t.Fatalf("got %#v", m)
			}
		case <-time.After(time.Minute):
			t.Fatal("the message queued on the failed dial was lost")
		}
		release()
		if err := <-connected; err != nil {
			t.Fatalf("b's connect: %v", err)
		}
		// The bulk connection b opened still works, and nothing went down.
		if err := a.r.Send(context.Background(), actor.PID{}, pr.pid, "again", remote.SendOptions{Channel: "bulk"}); err != nil {
			t.Fatal(err)
		}
		if m := pr.recv(t); m != "again" {
			t.Fatalf("got %#v", m)
		}
		synctest.Wait()
		select {
		case e := <-events:
			t.Fatalf("a's session with b changed: %+v", e)
		default:
		}
	})
}
