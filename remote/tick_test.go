package remote_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/remote/wire/wirepb"
)

// A peer that goes silent with its connection open (frozen by SIGSTOP, a hung
// host, a partition that resets nothing) is declared lost after the net tick
// time: monitors and pending calls across it fail with noconnection.
func TestNetTickDetectsASilentPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, a, b := tickingPair(t, 40)
		never, _ := b.Spawn(actor.Server(silent{}))
		target, _ := b.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		w := spawnProbe(t, a)
		w.do(t, a, func(p *actor.Process) { p.Monitor(target) })
		callErr := make(chan error, 1)
		go func() {
			_, err := a.Call(actor.WithoutCallTimeout(context.Background()), never, "hello?")
			callErr <- err
		}()
		synctest.Wait()

		silenced := time.Now()
		net.Partition([]string{"a"}, []string{"b"}) // open, but nothing gets through
		d, ok := w.recv(t).(actor.DownMessage)
		if !ok || !errors.Is(d.Reason, actor.ErrNoConnection) {
			t.Fatalf("got %#v, want a noconnection DOWN", d)
		}
		if el := time.Since(silenced); el < tickTime-tickTime/4 || el > tickTime+tickTime/4 {
			t.Fatalf("silence detected after %v, want about the net tick time %v", el, tickTime)
		}
		if err := <-callErr; !errors.Is(err, actor.ErrNoConnection) || !errors.Is(err, remote.ErrNetTick) {
			t.Fatalf("pending call: %v, want noconnection by the net tick", err)
		}
	})
}

// An idle but healthy connection stays up: ticks keep it alive.
func TestNetTickKeepsAnIdleConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := tickingPair(t, 41)
		target, _ := b.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		w := spawnProbe(t, a)
		w.do(t, a, func(p *actor.Process) { p.Monitor(target) })
		time.Sleep(10 * tickTime)
		synctest.Wait()
		select {
		case m := <-w.ch:
			t.Fatalf("idle connection: watcher got %#v", m)
		default:
		}
		if !a.r.IsConnected("b") || !b.r.IsConnected("a") {
			t.Fatal("an idle connection was dropped")
		}
	})
}

// tickTime is the net tick time of the tick tests' nodes.
const tickTime = 4 * time.Second

// tickingPair starts nodes a and b on an in-memory network, ticking every
// tickTime, and connects them.
func tickingPair(t *testing.T, seed int64) (*transport.Network, *testNode, *testNode) {
	t.Helper()
	net := transport.NewNetwork(seed)
	a := startNode(t, net, "a", remote.Config{NetTickTime: tickTime})
	b := startNode(t, net, "b", remote.Config{NetTickTime: tickTime})
	connect(t, a, b)
	return net, a, b
}

// silent is a gen_server that never answers.
type silent struct{}

func (silent) HandleCall(*actor.Process, actor.From, any) (any, error) { return actor.NoReply, nil }

// Every tick interval a connection also measures its round trip on the live
// path (a probe the peer answers at once, queued behind what was already
// waiting): ConnStats reports the latest, so a path that slows down shows
// it without reconnecting, on both sides.
func TestNetTickMeasuresRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, a, b := tickingPair(t, 42)
		rtt := func(n *testNode) time.Duration {
			for _, st := range n.r.ConnStats() {
				if st.Up && !st.Spare {
					return st.RTT
				}
			}
			t.Fatalf("%s has no connection up", n.Name())
			return 0
		}
		net.SetDelay("a", "b", 30*time.Millisecond, 0)
		net.SetDelay("b", "a", 20*time.Millisecond, 0)
		time.Sleep(tickTime/ticks + time.Second)
		synctest.Wait()
		if got, want := rtt(a), 50*time.Millisecond; got != want {
			t.Fatalf("a's round trip to b: %v, want %v", got, want)
		}
		if got, want := rtt(b), 50*time.Millisecond; got != want {
			t.Fatalf("b's round trip to a: %v, want %v", got, want)
		}
		net.SetDelay("a", "b", 100*time.Millisecond, 0)
		net.SetDelay("b", "a", 100*time.Millisecond, 0)
		time.Sleep(tickTime/ticks + time.Second)
		synctest.Wait()
		if got, want := rtt(a), 200*time.Millisecond; got != want {
			t.Fatalf("a's round trip after the path slowed: %v, want %v", got, want)
		}
	})
}

// ticks is the number of ticks in a net tick time.
const ticks = 4

// A peer that asks for round trips without reading the answers gets what a
// peer that stops reading gets for anything else: the answers count against
// the send queue and its signals' reserve, and once that is full the
// connection is given up; they do not pile up without bound.
func TestProbeAnswersToAStalledPeerAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(43)
		a := startNode(t, net, "a", remote.Config{})
		b := startNode(t, net, "b", remote.Config{SendQueueBytes: 2048, SignalReserveBytes: 8 << 10})
		connect(t, a, b)
		sink, _ := b.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		question, err := wire.EncodeFrame(&wirepb.Frame{Body: &wirepb.Frame_Probe{Probe: &wirepb.Probe{Seq: 7}}})
		if err != nil {
			t.Fatal(err)
		}
		release := make(chan struct{})
		var stalled atomic.Bool
		stalled.Store(true)
		net.SetHook(func(from, to string, frame []byte) ([]byte, bool) {
			switch {
			case from == "b" && stalled.Load():
				<-release // b's writer to a stalls, as a peer that stops reading makes it
			case from == "a" && len(frame) > 0:
				return question, true // every message a sends becomes a question
			}
			return frame, true
		})
		for range 20000 {
			_ = a.Send(sink, "x")
		}
		synctest.Wait()
		if b.r.IsConnected("a") {
			queued := 0
			for _, st := range b.r.ConnStats() {
				queued += st.QueueBytes
			}
			t.Errorf("b still connected to a, with %d bytes of answers queued", queued)
		}
		stalled.Store(false)
		close(release)
	})
}
