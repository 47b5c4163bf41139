package actor_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// pipe is a distribution layer that joins two nodes of one test: what one node
// forwards, the other's endpoint delivers, in order, on a goroutine of its
// own (as a connection's reader would).
type pipe struct {
	ep  *actor.Endpoint
	out chan actor.Envelope
}

// joinNodes connects a and b through pipes; the returned function cuts the
// connection (both sides see the other node go down).
func joinNodes(t *testing.T, a, b *actor.Node) (cut func()) {
	t.Helper()
	pa := &pipe{out: make(chan actor.Envelope, 1024)}
	pb := &pipe{out: make(chan actor.Envelope, 1024)}
	pa.ep, pb.ep = a.Attach(pa), b.Attach(pb)
	stop := make(chan struct{})
	relay := func(from, to *pipe) {
		for {
			select {
			case env := <-from.out:
				_ = to.ep.Deliver(env)
			case <-stop:
				return
			}
		}
	}
	go relay(pa, pb)
	go relay(pb, pa)
	down := func() {
		close(stop)
		pa.ep.Detach()
		pb.ep.Detach()
		pa.ep.NodeDown(b.Name(), errors.New("cable cut"))
		pb.ep.NodeDown(a.Name(), errors.New("cable cut"))
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			close(stop)
		}
	})
	return func() { stopped = true; down() }
}

func (p *pipe) Forward(env actor.Envelope) error {
	p.out <- env
	return nil
}

// twoNodes runs f in a bubble with nodes a@test and b@test joined.
func twoNodes(t *testing.T, f func(t *testing.T, a, b *actor.Node, cut func())) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		a := newNode(t, actor.Config{Name: "a@test"})
		b := newNode(t, actor.Config{Name: "b@test"})
		cut := joinNodes(t, a, b)
		f(t, a, b, cut)
	})
}

// Point 7: monitor and link by registered name on this node.
func TestMonitorAndLinkLocalName(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		target := spawnProbe(t, n, actor.WithName("svc"))
		w := spawnProbe(t, n, actor.WithTrapExit())
		var ref actor.Ref
		w.do(t, func(p *actor.Process) error {
			ref = p.Monitor(actor.Name{Name: "svc"})
			return p.Link(actor.Name{Name: "svc"})
		})
		if info, _ := n.Info(target.pid); len(info.Links) != 1 || info.Links[0] != w.pid {
			t.Fatalf("links of the named process: %v", info.Links)
		}
		target.do(t, func(*actor.Process) error { return errBoom })
		d, m := downAndExit(t, w)
		want := actor.DownMessage{Ref: ref, PID: target.pid, Name: actor.Name{Node: "a@test", Name: "svc"}, Reason: errBoom}
		if d != want {
			t.Fatalf("DOWN %+v, want %+v", d, want)
		}
		if m.From != target.pid || m.Reason != errBoom {
			t.Fatalf("exit %+v", m)
		}

		// A name nobody holds.
		var linkErr error
		w.do(t, func(p *actor.Process) error {
			ref = p.Monitor(actor.Name{Name: "nobody"})
			linkErr = p.Link(actor.Name{Name: "nobody"})
			return nil
		})
		d, m = downAndExit(t, w)
		if d.Ref != ref || !errors.Is(d.Reason, actor.ErrNotRegistered) || d.Name.Name != "nobody" {
			t.Fatalf("DOWN for a free name: %+v", d)
		}
		if !errors.Is(linkErr, actor.ErrNotRegistered) || !errors.Is(linkErr, actor.ErrNoProc) {
			t.Fatalf("Link to a free name: %v", linkErr)
		}
		if !errors.Is(m.Reason, actor.ErrNotRegistered) {
			t.Fatalf("exit for a free name: %+v", m)
		}
	})
}

// Point 7: monitor and link by {Name, Node} on another node, and a remote
// whereis.
func TestMonitorAndLinkRemoteName(t *testing.T) {
	twoNodes(t, func(t *testing.T, a, b *actor.Node, _ func()) {
		target := spawnProbe(t, b, actor.WithName("svc"), actor.WithTrapExit())
		svc := actor.Name{Node: "b@test", Name: "svc"}
		w := spawnProbe(t, a, actor.WithTrapExit())
		var ref actor.Ref
		w.do(t, func(p *actor.Process) error {
			ref = p.Monitor(svc)
			return p.Link(svc)
		})
		synctest.Wait()
		if info, _ := b.Info(target.pid); len(info.Links) != 1 || info.Links[0] != w.pid || len(info.MonitoredBy) != 1 {
			t.Fatalf("remote holder: links %v, monitored by %v", info.Links, info.MonitoredBy)
		}
		if info, _ := a.Info(w.pid); len(info.Links) != 1 || info.Links[0] != target.pid {
			t.Fatalf("linker's links %v, want the remote holder", info.Links)
		}
		pid, err := a.Resolve(t.Context(), svc)
		if err != nil || pid != target.pid {
			t.Fatalf("Resolve = %v, %v; want %v", pid, err, target.pid)
		}
		if _, err := a.Resolve(t.Context(), actor.Name{Node: "b@test", Name: "nope"}); !errors.Is(err, actor.ErrNotRegistered) {
			t.Fatalf("Resolve of a free remote name: %v", err)
		}

		target.do(t, func(*actor.Process) error { return errBoom })
		d, m := downAndExit(t, w)
		if d.Ref != ref || d.PID != target.pid || d.Name != svc || d.Reason != errBoom {
			t.Fatalf("DOWN %+v", d)
		}
		if m.From != target.pid || m.Reason != errBoom {
			t.Fatalf("exit %+v", m)
		}

		// A remote name nobody holds.
		free := actor.Name{Node: "b@test", Name: "free"}
		w.do(t, func(p *actor.Process) error {
			ref = p.Monitor(free)
			return p.Link(free)
		})
		d, m = downAndExit(t, w)
		if d.Ref != ref || !errors.Is(d.Reason, actor.ErrNotRegistered) || d.Name != free {
			t.Fatalf("DOWN for a free remote name: %+v", d)
		}
		if !errors.Is(m.Reason, actor.ErrNotRegistered) {
			t.Fatalf("exit for a free remote name: %+v", m)
		}
	})
}

// downAndExit receives a DOWN and an exit message, in either order: a dying
// process's links and monitors fire in no promised order.
func downAndExit(t *testing.T, pr *probe) (actor.DownMessage, actor.ExitMessage) {
	t.Helper()
	var d actor.DownMessage
	var m actor.ExitMessage
	for range 2 {
		switch v := pr.recv(t).(type) {
		case actor.DownMessage:
			d = v
		case actor.ExitMessage:
			m = v
		default:
			t.Fatalf("probe got %#v, want a DOWN or an exit", v)
		}
	}
	return d, m
}

// Point 9: errors name the destination and the node, and match one sentinel
// however the destination was addressed.
func TestErrorsNameTheDestination(t *testing.T) {
	twoNodes(t, func(t *testing.T, a, b *actor.Node, _ func()) {
		pr := spawnProbe(t, a)
		local := actor.Name{Name: "nope"}
		remoteName := actor.Name{Node: "b@test", Name: "nope"}
		checks := []struct {
			name string
			err  error
			want []string
		}{}
		add := func(name string, err error, want ...string) {
			checks = append(checks, struct {
				name string
				err  error
				want []string
			}{name, err, want})
		}
		add("Node.Send local name", a.Send(local, "x"), "{nope,a@test}", "send")
		_, err := a.Call(t.Context(), local, "x")
		add("Node.Call local name", err, "{nope,a@test}", "call")
		_, err = a.Call(t.Context(), remoteName, "x")
		add("Node.Call remote name", err, "{nope,b@test}", "from a@test")
		pr.do(t, func(p *actor.Process) error {
			add("Process.Send local name", p.Send(local, "x"), "{nope,a@test}")
			_, err := p.Call(t.Context(), remoteName, "x")
			add("Process.Call remote name", err, "{nope,b@test}")
			return nil
		})
		for _, c := range checks {
			if !errors.Is(c.err, actor.ErrNoProc) || !errors.Is(c.err, actor.ErrNotRegistered) {
				t.Errorf("%s: %v does not match both ErrNoProc and ErrNotRegistered", c.name, c.err)
			}
			for _, w := range c.want {
				if c.err == nil || !strings.Contains(c.err.Error(), w) {
					t.Errorf("%s: %q does not say %q", c.name, c.err, w)
				}
			}
		}

		srv, _ := spawnServer(t, a)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err = a.Call(ctx, srv, callFn(func(*actor.Process, actor.From) (any, error) { return actor.NoReply, nil }))
		if !errors.Is(err, actor.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), srv.String()) {
			t.Fatalf("timeout %q: want ErrTimeout naming %v", err, srv)
		}
	})
}

// Point 9: a call pending when its node's connection is lost fails with
// noconnection and says why.
func TestNodeDownCauseReachesCaller(t *testing.T) {
	twoNodes(t, func(t *testing.T, a, b *actor.Node, cut func()) {
		srv, _ := spawnServer(t, b)
		errc := make(chan error, 1)
		go func() {
			_, err := a.Call(t.Context(), srv, callFn(func(*actor.Process, actor.From) (any, error) { return actor.NoReply, nil }))
			errc <- err
		}()
		synctest.Wait()
		cut()
		err := <-errc
		if !errors.Is(err, actor.ErrNoConnection) || !strings.Contains(err.Error(), "cable cut") {
			t.Fatalf("pending call: %q, want noconnection saying why", err)
		}
	})
}

// Point 10: a call cycle ends at the default call timeout.
func TestDefaultCallTimeoutEndsCycle(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		aPID, _ := spawnServer(t, n, actor.WithName("A"))
		bPID, _ := spawnServer(t, n, actor.WithName("B"))
		// A calls B, which calls A: neither can answer.
		start := time.Now()
		_, err := n.Call(actor.WithoutCallTimeout(context.Background()), aPID, callFn(func(p *actor.Process, _ actor.From) (any, error) {
			return p.Call(context.Background(), bPID, callFn(func(p *actor.Process, _ actor.From) (any, error) {
				return p.Call(context.Background(), aPID, "x")
			}))
		}))
		if !errors.Is(err, actor.ErrTimeout) {
			t.Fatalf("cycle: %v, want ErrTimeout", err)
		}
		if el := time.Since(start); el < 5*time.Second || el > 5*time.Second+5*time.Second/64 {
			t.Fatalf("cycle ended after %v, want the default 5s (and at most one sweep tick more)", el)
		}
	})
}

// Point 10: the default timeout is configurable and can be switched off.
func TestDefaultCallTimeoutConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newNode(t, actor.Config{Name: "a@test", DefaultCallTimeout: time.Minute})
		srv, _ := spawnServer(t, n)
		never := callFn(func(*actor.Process, actor.From) (any, error) { return actor.NoReply, nil })
		start := time.Now()
		if _, err := n.Call(context.Background(), srv, never); !errors.Is(err, actor.ErrTimeout) ||
			time.Since(start) < time.Minute || time.Since(start) > time.Minute+time.Minute/64 {
			t.Fatalf("Call = %v after %v, want a timeout after 1m", err, time.Since(start))
		}
		off := newNode(t, actor.Config{Name: "b@test", DefaultCallTimeout: -1})
		srv2, _ := spawnServer(t, off)
		done := make(chan error, 1)
		go func() { _, err := off.Call(context.Background(), srv2, never); done <- err }()
		time.Sleep(time.Hour)
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Call with no default timeout ended: %v", err)
		default:
		}
		_ = off.Exit(srv2, actor.Kill)
		if err := <-done; !errors.Is(err, actor.Killed) {
			t.Fatalf("after kill: %v", err)
		}
	})
}

// Point 10: CallAs returns typed replies.
func TestCallAs(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		srv, _ := spawnServer(t, n)
		s, err := actor.CallAs[string](t.Context(), n, srv, "echo")
		if err != nil || s != "echo" {
			t.Fatalf("CallAs[string] = %q, %v", s, err)
		}
		if _, err := actor.CallAs[int](t.Context(), n, srv, "echo"); err == nil || !strings.Contains(err.Error(), "string, not int") {
			t.Fatalf("CallAs[int] of a string reply: %v", err)
		}
	})
}

// Point 10: StopProcess runs Terminate and waits, as gen_server:stop/3.
func TestStopProcess(t *testing.T) {
	twoNodes(t, func(t *testing.T, a, b *actor.Node, _ func()) {
		pid, s := spawnServer(t, a, actor.WithName("svc"))
		if err := a.StopProcess(t.Context(), actor.Name{Name: "svc"}, actor.Shutdown); err != nil {
			t.Fatalf("StopProcess: %v", err)
		}
		if alive(a, pid) {
			t.Fatal("process alive after StopProcess returned")
		}
		if m := <-s.ch; m != (terminated{actor.Shutdown}) {
			t.Fatalf("server saw %#v, want Terminate(shutdown)", m)
		}
		if err := a.StopProcess(t.Context(), pid, actor.Normal); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("StopProcess of a dead process: %v, want noproc", err)
		}
		// Across nodes, by name.
		rpid, rs := spawnServer(t, b, actor.WithName("far"))
		if err := a.StopProcess(t.Context(), actor.Name{Node: "b@test", Name: "far"}, errBoom); err != nil {
			t.Fatalf("remote StopProcess: %v", err)
		}
		if alive(b, rpid) {
			t.Fatal("remote process alive after StopProcess returned")
		}
		if m := <-rs.ch; m != (terminated{errBoom}) {
			t.Fatalf("remote server saw %#v", m)
		}
		// A Terminate that exits otherwise is reported.
		other, _ := spawnServer(t, a)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := a.Cast(other, func(*actor.Process) error { time.Sleep(time.Hour); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := a.StopProcess(ctx, other, actor.Normal); !errors.Is(err, actor.ErrTimeout) {
			t.Fatalf("StopProcess of a busy process: %v, want timeout", err)
		}
	})
}

// Point 11: the distribution hooks are not part of Node's API.
func TestNodeAPIHasNoDistributionHooks(t *testing.T) {
	typ := reflect.TypeFor[*actor.Node]()
	for _, name := range []string{"Deliver", "NodeDown", "SetRemote", "SendName", "CallName", "CastName"} {
		if _, ok := typ.MethodByName(name); ok {
			t.Errorf("*actor.Node has method %s", name)
		}
	}
	ptyp := reflect.TypeFor[*actor.Process]()
	for _, name := range []string{"SendName", "CallName", "CastName"} {
		if _, ok := ptyp.MethodByName(name); ok {
			t.Errorf("*actor.Process has method %s", name)
		}
	}
}
