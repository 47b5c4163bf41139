package remote_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// onBoth runs a test on the in-memory network (in a synctest bubble) and on
// real TCP over loopback. mk starts a node.
func onBoth(t *testing.T, f func(t *testing.T, mk func(name string, cfg remote.Config) *testNode)) {
	t.Run("memory", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			net := transport.NewNetwork(1)
			f(t, func(name string, cfg remote.Config) *testNode { return startNode(t, net, name, cfg) })
		})
	})
	t.Run("tcp", func(t *testing.T) {
		f(t, func(name string, cfg remote.Config) *testNode { return startNode(t, nil, name, cfg) })
	})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSendCallCast(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		got := make(chan any, 16)
		server, err := b.Spawn(actor.Server(&echo{got: got}), actor.WithName("echo"))
		if err != nil {
			t.Fatal(err)
		}
		// a has never heard of b: Connect teaches it the address.
		connect(t, a, b)
		ctx := ctxT(t)

		reply, err := a.Call(ctx, server, "hello")
		if err != nil || reply != "hello" {
			t.Fatalf("call by pid = %v, %v", reply, err)
		}
		reply, err = a.Call(ctx, actor.Name{Node: "b", Name: "echo"}, int64(42))
		if err != nil || reply != int64(42) {
			t.Fatalf("call by name = %v, %v", reply, err)
		}
		// PIDs survive the trip and name the right process.
		reply, err = a.Call(ctx, server, "self")
		if err != nil || reply != server {
			t.Fatalf("self = %v, %v; want %v", reply, err, server)
		}
		if err := a.Cast(server, "cast-1"); err != nil {
			t.Fatal(err)
		}
		if err := a.Send(actor.Name{Node: "b", Name: "echo"}, "info-1"); err != nil {
			t.Fatal(err)
		}
		if m := <-got; m != "cast-1" {
			t.Fatalf("cast arrived as %v", m)
		}
		if m := <-got; m != "info-1" {
			t.Fatalf("info arrived as %v", m)
		}
		// A name nobody holds on the other node is noproc for a call.
		_, err = a.Call(ctx, actor.Name{Node: "b", Name: "nobody"}, "x")
		if !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("call to unknown remote name: %v", err)
		}
		// A PID that never existed there is noproc too.
		_, err = a.Call(ctx, actor.PID{Node: "b", Creation: server.Creation, ID: 1 << 40}, "x")
		if !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("call to unknown remote pid: %v", err)
		}
	})
}

func TestCallFromProcessAndCalleeCrash(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		connect(t, a, b)
		server, _ := b.Spawn(actor.Server(&echo{}))
		pr := spawnProbe(t, a)
		var reply any
		var err, crash error
		pr.do(t, a, func(p *actor.Process) {
			reply, err = p.Call(ctxT(t), server, "ping")
			_, crash = p.Call(ctxT(t), server, "crash")
		})
		if reply != "ping" || err != nil {
			t.Fatalf("call from process = %v, %v", reply, err)
		}
		var exit *actor.ExitError
		if !errors.As(crash, &exit) || exit.PID != server {
			t.Fatalf("callee crash gave %v, want an ExitError from %v", crash, server)
		}
	})
}

func TestOrderAcrossTheWire(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		connect(t, a, b)
		rcv := spawnProbe(t, b)
		const n = 2000
		snd := spawnProbe(t, a)
		snd.do(t, a, func(p *actor.Process) {
			for i := range n {
				if err := p.Send(rcv.pid, int64(i)); err != nil {
					t.Errorf("send %d: %v", i, err)
					return
				}
			}
			// The exit signal of the sender travels behind its messages.
		})
		for i := range n {
			if got := rcv.recv(t); got != int64(i) {
				t.Fatalf("message %d arrived as %v", i, got)
			}
		}
	})
}

func TestLinkAcrossNodes(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		connect(t, a, b)
		server, _ := b.Spawn(actor.Server(&echo{}))
		pr := spawnProbe(t, a, actor.WithTrapExit())
		pr.do(t, a, func(p *actor.Process) {
			if err := p.Link(server); err != nil {
				t.Errorf("link: %v", err)
			}
		})
		// Wait until b has seen the link, then end the server from a.
		waitLinked(t, a, b.Node, server, pr.pid)
		if err := a.Exit(server, errors.New("stop now")); err != nil {
			t.Fatal(err)
		}
		m := pr.recv(t).(actor.ExitMessage)
		if m.From != server || m.Reason.Error() != "stop now" {
			t.Fatalf("exit message %+v", m)
		}

		// The other way: a process on a dies, its linked server on b dies
		// with the same reason.
		server2, _ := b.Spawn(actor.Server(&echo{}))
		watcher := spawnProbe(t, b)
		watcher.do(t, b, func(p *actor.Process) { p.Monitor(server2) })
		victim := spawnProbe(t, a)
		victim.do(t, a, func(p *actor.Process) { _ = p.Link(server2) })
		waitLinked(t, a, b.Node, server2, victim.pid)
		if err := a.Exit(victim.pid, actor.Kill); err != nil {
			t.Fatal(err)
		}
		d := watcher.recv(t).(actor.DownMessage)
		if !errors.Is(d.Reason, actor.Killed) {
			t.Fatalf("linked server died with %v, want killed", d.Reason)
		}
	})
}

// waitLinked waits until pid on n lists other among its links. A call from
// other's node travels behind the link signal on the same connection, so once
// it is answered the link is in place.
func waitLinked(t *testing.T, from *testNode, n *actor.Node, pid, other actor.PID) {
	t.Helper()
	if _, err := from.Call(ctxT(t), pid, "sync"); err != nil {
		t.Fatalf("sync call: %v", err)
	}
	info, err := n.Info(pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range info.Links {
		if l == other {
			return
		}
	}
	t.Fatalf("%v not linked to %v (links %v)", pid, other, info.Links)
}

func TestMonitorAcrossNodes(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		connect(t, a, b)
		server, _ := b.Spawn(actor.Server(&echo{}))
		pr := spawnProbe(t, a)
		var ref, deadRef, dropped actor.Ref
		pr.do(t, a, func(p *actor.Process) {
			ref = p.Monitor(server)
			deadRef = p.Monitor(actor.PID{Node: "b", Creation: server.Creation, ID: 1 << 40})
			dropped = p.Monitor(server)
			p.Demonitor(dropped)
		})
		d := pr.recv(t).(actor.DownMessage)
		if d.Ref != deadRef || !errors.Is(d.Reason, actor.ErrNoProc) {
			t.Fatalf("monitor of missing remote pid: %+v", d)
		}
		if _, err := a.Call(ctxT(t), server, "sync"); err != nil {
			t.Fatal(err)
		}
		if err := a.Exit(server, actor.Kill); err != nil {
			t.Fatal(err)
		}
		d = pr.recv(t).(actor.DownMessage)
		if d.Ref != ref || d.PID != server || !errors.Is(d.Reason, actor.Killed) {
			t.Fatalf("down %+v", d)
		}
		// The demonitored ref never reports: the next message is ours.
		_ = a.Send(pr.pid, "marker")
		if m := pr.recv(t); m != "marker" {
			t.Fatalf("after demonitor got %v", m)
		}
	})
}

func TestSendWithoutConnectionUsesLearnedAddress(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		server, _ := b.Spawn(actor.Server(&echo{}))
		// Unknown node: no address, so the call fails with noconnection.
		_, err := a.Call(ctxT(t), server, "x")
		if !errors.Is(err, actor.ErrNoConnection) {
			t.Fatalf("call to unknown node: %v", err)
		}
		a.r.Learn(b.r.Spec())
		reply, err := a.Call(ctxT(t), server, "x")
		if err != nil || reply != "x" {
			t.Fatalf("call after Learn: %v, %v", reply, err)
		}
		if !b.r.IsConnected("a") {
			t.Fatal("b does not see a")
		}
	})
}

func TestResolve(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		b := mk("b", remote.Config{})
		a := mk("a", remote.Config{Resolve: func(_ context.Context, node string) ([]string, error) {
			if node == "b" {
				return b.r.Addrs(), nil
			}
			return nil, fmt.Errorf("who is %s", node)
		}})
		server, _ := b.Spawn(actor.Server(&echo{}))
		if reply, err := a.Call(ctxT(t), server, "r"); err != nil || reply != "r" {
			t.Fatalf("call through resolver: %v, %v", reply, err)
		}
	})
}

// Two nodes that connect to each other at the same moment end up with one
// session: crossed dials are not mistaken for a reconnect.
func TestCrossedConnect(t *testing.T) {
	onBoth(t, func(t *testing.T, mk func(string, remote.Config) *testNode) {
		a, b := mk("a", remote.Config{}), mk("b", remote.Config{})
		events := make(chan string, 16)
		a.r.Subscribe(func(e remote.Event) { events <- "a:" + e.Kind.String() })
		b.r.Subscribe(func(e remote.Event) { events <- "b:" + e.Kind.String() })
		errs := make(chan error, 2)
		for range 20 {
			go func() { errs <- a.r.Connect(ctxT(t), b.r.Spec()) }()
			go func() { errs <- b.r.Connect(ctxT(t), a.r.Spec()) }()
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		}
		server, _ := b.Spawn(actor.Server(&echo{}))
		if reply, err := a.Call(ctxT(t), server, "x"); err != nil || reply != "x" {
			t.Fatalf("call: %v, %v", reply, err)
		}
		if !a.r.IsConnected("b") || !b.r.IsConnected("a") {
			t.Fatal("not connected both ways")
		}
		// Each side saw the peer come up once and never go down. (Each
		// node reports on its own goroutine: wait for both reports.)
		var seen []string
		for len(seen) < 2 {
			e := <-events
			if e == "a:down" || e == "b:down" {
				t.Fatalf("%s after %v, before the stop", e, seen)
			}
			seen = append(seen, e)
		}
		if slices.Sort(seen); !slices.Equal(seen, []string{"a:up", "b:up"}) {
			t.Fatalf("events: %v", seen)
		}
		a.r.Stop()
		select {
		case e := <-events:
			if e != "a:down" && e != "b:down" {
				t.Fatalf("after the two ups: %s", e)
			}
		case <-ctxT(t).Done():
			t.Fatal("no down after the stop")
		}
	})
}
