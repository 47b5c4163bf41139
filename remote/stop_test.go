package remote_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Stopping a node stops its distribution layer too: its connections close
// (its peers see it go down) and it accepts no new ones.
func TestNodeStopStopsTheRemote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(60)
		a := startNode(t, net, "a", remote.Config{})
		b := startNode(t, net, "b", remote.Config{})
		connect(t, a, b)
		target, _ := a.Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		w := spawnProbe(t, b)
		w.do(t, b, func(p *actor.Process) { p.Monitor(target) })
		synctest.Wait() // the monitor reached a
		if err := a.Node.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		d, ok := w.recv(t).(actor.DownMessage)
		if !ok || !(errors.Is(d.Reason, actor.Shutdown) || errors.Is(d.Reason, actor.ErrNoConnection)) {
			t.Fatalf("watcher got %#v (%v)", d, d.Reason)
		}
		synctest.Wait()
		if len(a.r.Peers()) != 0 || b.r.IsConnected("a") {
			t.Fatalf("after the node stopped: a has peers %v, b connected to a: %v", a.r.Peers(), b.r.IsConnected("a"))
		}
		if err := b.r.Connect(context.Background(), a.r.Spec()); err == nil {
			t.Fatal("a stopped node accepted a connection")
		}
	})
}

// Point 15: a node-down (which visits every process tied to the lost node)
// runs without the lock that every send to any node takes, and sends to
// other nodes go on meanwhile.
func TestNodeDownRunsOutsideTheSendLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(25)
		a, b, c := startNode(t, net, "a", remote.Config{}), startNode(t, net, "b", remote.Config{}), startNode(t, net, "c", remote.Config{})
		connect(t, a, b)
		connect(t, a, c)
		onC := spawnProbe(t, c)
		type seen struct {
			free bool
			err  error
		}
		during := make(chan seen, 1)
		remote.SetNodeDownHook(a.r, func(node string) {
			if node == "b" {
				s := seen{free: remote.LockFree(a.r)}
				if s.free { // else the send would wait for the lock for good
					s.err = a.Send(onC.pid, "while b goes down")
				}
				during <- s
			}
		})
		b.r.Stop()
		s := <-during
		if !s.free || s.err != nil {
			t.Fatalf("during b's node-down: send lock free %v, send to c %v", s.free, s.err)
		}
		if m := onC.recv(t); m != "while b goes down" {
			t.Fatalf("c got %#v", m)
		}
	})
}
