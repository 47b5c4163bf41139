package remote_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
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
