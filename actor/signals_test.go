package actor_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
)

// busy is a process that blocks inside its first handler until release is
// closed, and forwards every later message to ch. It is how a test queues a
// backlog behind a handler in progress.
type busy struct {
	entered chan struct{}
	release chan struct{}
	ch      chan any
	after   func(p *actor.Process) // runs once the block is released
	started bool
}

func newBusy() *busy {
	return &busy{entered: make(chan struct{}), release: make(chan struct{}), ch: make(chan any, 4096)}
}

func (b *busy) Receive(p *actor.Process, msg any) error {
	if !b.started {
		b.started = true
		close(b.entered)
		<-b.release
		if b.after != nil {
			b.after(p)
		}
		return nil
	}
	b.ch <- msg
	return nil
}

// spawnBusy starts a busy process, puts it inside its blocking handler and
// queues backlog messages behind it.
func spawnBusy(t *testing.T, n *actor.Node, b *busy, backlog int, opts ...actor.SpawnOption) actor.PID {
	t.Helper()
	pid, err := n.Spawn(b, opts...)
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	if err := n.Send(pid, "block"); err != nil {
		t.Fatal(err)
	}
	<-b.entered
	for i := range backlog {
		if err := n.Send(pid, i); err != nil {
			t.Fatalf("send backlog %d: %v", i, err)
		}
	}
	return pid
}

// Point 1: an exit signal acts on arrival, after the handler in progress
// returns; the backlog behind it is never handled.
func TestExitSignalActsOnArrival(t *testing.T) {
	tests := []struct {
		name   string
		signal func(t *testing.T, n *actor.Node, target actor.PID)
		want   error
	}{
		{"kill", func(t *testing.T, n *actor.Node, target actor.PID) { _ = n.Exit(target, actor.Kill) }, actor.Killed},
		{"abnormal exit", func(t *testing.T, n *actor.Node, target actor.PID) { _ = n.Exit(target, errBoom) }, errBoom},
		{"shutdown", func(t *testing.T, n *actor.Node, target actor.PID) { _ = n.Exit(target, actor.Shutdown) }, actor.Shutdown},
		{"linked process exits", func(t *testing.T, n *actor.Node, target actor.PID) {
			pr := spawnProbe(t, n)
			pr.do(t, func(p *actor.Process) error { return p.Link(target) })
			pr.do(t, func(*actor.Process) error { return errBoom })
		}, errBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				b := newBusy()
				target := spawnBusy(t, n, b, 1000)
				w := watch(t, n, target)
				tc.signal(t, n, target)
				// The signal may travel through another process (a linked
				// process's exit): let it arrive before releasing the handler.
				synctest.Wait()
				close(b.release)
				if r := w.down(t); !errors.Is(r, tc.want) {
					t.Fatalf("exit reason %v, want %v", r, tc.want)
				}
				if got := len(b.ch); got != 0 {
					t.Fatalf("the process handled %d backlog messages after the exit signal arrived, want 0", got)
				}
			})
		})
	}
}

// Point 1: Node.Stop does not wait for backlogs either.
func TestNodeStopSkipsBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, err := actor.NewNode(actor.Config{Name: "a@test"})
		if err != nil {
			t.Fatal(err)
		}
		b := newBusy()
		spawnBusy(t, n, b, 1000)
		stopped := make(chan error, 1)
		go func() { stopped <- n.Stop(context.Background()) }()
		synctest.Wait()
		close(b.release)
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if got := len(b.ch); got != 0 {
			t.Fatalf("the process handled %d backlog messages during Stop, want 0", got)
		}
	})
}

// Point 1: a trapped exit is an ExitMessage in order with the sender's earlier
// messages.
func TestTrappedExitStaysInOrder(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		target := spawnProbe(t, n, actor.WithTrapExit())
		sender := spawnProbe(t, n)
		sender.do(t, func(p *actor.Process) error {
			for i := range 3 {
				_ = p.Send(target.pid, i)
			}
			return p.Exit(target.pid, errBoom)
		})
		for i := range 3 {
			if m := target.recv(t); m != i {
				t.Fatalf("message %d: got %#v", i, m)
			}
		}
		m := recvAs[actor.ExitMessage](t, target)
		if m.From != sender.pid || m.Reason != errBoom {
			t.Fatalf("got %+v", m)
		}
	})
}

// Point 2: a process killed while busy is dead to observers at once, and what
// its handler does afterwards is never seen.
func TestKilledBusyProcessIsDeadAtOnce(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		obs := spawnProbe(t, n)
		srv, _ := spawnServer(t, n)
		b := newBusy()
		var afterSend, afterSpawn error
		b.after = func(p *actor.Process) {
			afterSend = p.Send(obs.pid, "from the zombie")
			_, afterSpawn = p.Spawn(actor.Func(func(*actor.Process, any) error { return nil }), actor.WithName("zombie-child"))
			_ = p.Cast(srv, "cast from the zombie")
		}
		target := spawnBusy(t, n, b, 10, actor.WithName("busy"))
		obs.do(t, func(p *actor.Process) error { p.Monitor(target); return nil })
		// A call is pending on the zombie: its caller must get killed, not a reply.
		callErr := make(chan error, 1)
		go func() {
			_, err := n.Call(context.Background(), target, "never answered")
			callErr <- err
		}()
		synctest.Wait()

		if err := n.Exit(target, actor.Kill); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		d := recvAs[actor.DownMessage](t, obs)
		if d.PID != target || !errors.Is(d.Reason, actor.Killed) {
			t.Fatalf("DOWN %+v, want killed from %v", d, target)
		}
		if _, ok := n.WhereIs("busy"); ok {
			t.Fatal("the killed process's name is still registered")
		}
		if _, err := n.Info(target); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("Info of the killed process: %v, want noproc", err)
		}
		if err := n.Send(target, "x"); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("Send to the killed process: %v, want noproc", err)
		}
		if err := <-callErr; !errors.Is(err, actor.Killed) {
			t.Fatalf("pending call: %v, want killed", err)
		}
		for _, pid := range n.Processes() {
			if pid == target {
				t.Fatal("the killed process is still listed")
			}
		}

		close(b.release) // the zombie's handler goes on
		synctest.Wait()
		obs.quiet(t)
		if afterSend == nil || afterSpawn == nil {
			t.Fatalf("the zombie's send and spawn succeeded (%v, %v), want errors", afterSend, afterSpawn)
		}
		if _, ok := n.WhereIs("zombie-child"); ok {
			t.Fatal("the zombie spawned a process")
		}
	})
}

// Point 3: a process killed while its Init waits in a Call is not started.
func TestKilledDuringInit(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		froms := make(chan actor.From, 1)
		srv, _ := spawnServer(t, n)
		w := spawnProbe(t, n)
		type result struct {
			pid actor.PID
			err error
		}
		done := make(chan result, 1)
		go func() {
			s := newServer()
			s.init = func(p *actor.Process) error {
				_, err := p.Call(context.Background(), srv, callFn(func(_ *actor.Process, from actor.From) (any, error) {
					froms <- from
					return actor.NoReply, nil
				}))
				return err
			}
			pid, err := n.Spawn(actor.Server(s), actor.WithName("starting"))
			done <- result{pid, err}
		}()
		from := <-froms
		synctest.Wait()
		pid, ok := n.WhereIs("starting")
		if !ok {
			t.Fatal("the starting process is not registered")
		}
		w.do(t, func(p *actor.Process) error { p.Monitor(pid); return nil })
		if err := n.Exit(pid, actor.Kill); err != nil {
			t.Fatal(err)
		}
		n.Reply(from, "late")
		res := <-done
		if !errors.Is(res.err, actor.Killed) || !res.pid.IsZero() {
			t.Fatalf("Spawn = %v, %v; want zero PID and killed", res.pid, res.err)
		}
		if !errors.Is(w.down(t), actor.Killed) {
			t.Fatal("the watcher's DOWN is not killed")
		}
		if _, ok := n.WhereIs("starting"); ok {
			t.Fatal("name left behind")
		}
		if alive(n, pid) {
			t.Fatal("process left behind")
		}
	})
}

// Point 4: the mailbox bound counts messages, calls included, and no runtime
// signal.
func TestMailboxBoundCountsMessages(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		b := newBusy()
		target := spawnBusy(t, n, b, 0, actor.WithMailboxBound(2))
		for range 5 {
			watch(t, n, target)
		}
		if err := n.Send(target, "one"); err != nil {
			t.Fatalf("send after five monitors: %v", err)
		}
		// "block" (being handled) and "one" fill the bound of 2.
		ctx, cancel := context.WithTimeout(context.Background(), 1)
		defer cancel()
		if _, err := n.Call(ctx, target, "req"); !errors.Is(err, actor.ErrMailboxFull) {
			t.Fatalf("call into a full mailbox: %v, want ErrMailboxFull", err)
		}
		close(b.release)
	})
}

// Point 5: links compare reasons with errors.Is.
func TestLinkReasonsMatchWrapped(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		parent := spawnProbe(t, n)
		child := parent.spawnChild(t, actor.WithLink())
		child.do(t, func(*actor.Process) error { return fmt.Errorf("done: %w", actor.Normal) })
		synctest.Wait()
		if !alive(n, parent.pid) {
			t.Fatal("a wrapped normal exit killed the linked parent")
		}

		trapper := spawnProbe(t, n, actor.WithTrapExit())
		w := watch(t, n, trapper.pid)
		if err := n.Exit(trapper.pid, fmt.Errorf("stop now: %w", actor.Kill)); err != nil {
			t.Fatal(err)
		}
		if r := w.down(t); !errors.Is(r, actor.Killed) {
			t.Fatalf("a wrapped kill gave %v, want killed", r)
		}
	})
}

// Point 6: registering a name the process already holds is an error.
func TestRegisterTwice(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pr := spawnProbe(t, n, actor.WithName("x"))
		if err := n.Register("x", pr.pid); !errors.Is(err, actor.ErrAlreadyNamed) {
			t.Fatalf("second Register of the same name: %v, want ErrAlreadyNamed", err)
		}
	})
}

// Point 6: each MonitorNode call brings its own node-down message.
func TestMonitorNodeTwice(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		installRemote(n)
		pr := spawnProbe(t, n)
		pr.do(t, func(p *actor.Process) error {
			p.MonitorNode("b@test")
			p.MonitorNode("b@test")
			return nil
		})
		endpoint(n).NodeDown("b@test", nil)
		for i := range 2 {
			if m := recvAs[actor.NodeDownMessage](t, pr); m.Node != "b@test" {
				t.Fatalf("message %d: %+v", i, m)
			}
		}
		synctest.Wait()
		pr.quiet(t)
	})
}

// Point 6: a reply to a zero From is an error, not a loop through the remote layer.
func TestReplyToZeroFrom(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		lb := &loopback{}
		lb.ep = n.Attach(lb)
		pr := spawnProbe(t, n)
		pr.do(t, func(p *actor.Process) error {
			if err := p.Reply(actor.From{}, "x"); !errors.Is(err, actor.ErrMalformed) {
				t.Errorf("Reply to a zero From: %v, want ErrMalformed", err)
			}
			if err := n.Reply(actor.From{Ref: actor.Ref{ID: 9}}, "x"); !errors.Is(err, actor.ErrMalformed) {
				t.Errorf("Reply to a From of no node: %v, want ErrMalformed", err)
			}
			return nil
		})
	})
}

// loopback is a remote layer that delivers everything back to its own node, as
// a confused peer would.
type loopback struct{ ep *actor.Endpoint }

func (l *loopback) Forward(env actor.Envelope) error { return l.ep.Deliver(env) }

// blockingDist is a distribution layer whose Forward waits until released, as
// a send waiting for room in a full queue does.
type blockingDist struct {
	entered chan actor.Envelope
	release chan struct{}
}

func (d *blockingDist) Forward(env actor.Envelope) error {
	d.entered <- env
	<-d.release
	return nil
}

// Point 2: a process killed while its code hands an envelope to the
// distribution layer is dead at once to local observers' lookups, but its
// DOWN waits until that forward is queued; later forwards of the zombie are
// dropped.
func TestKilledDuringForward(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		d := &blockingDist{entered: make(chan actor.Envelope, 4), release: make(chan struct{})}
		n.Attach(d)
		var second error
		pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
			_ = p.Send(remotePID, "first")
			second = p.Send(remotePID, "second")
			return nil
		}), actor.WithName("sender"))
		if err != nil {
			t.Fatal(err)
		}
		w := watch(t, n, pid)
		if err := n.Send(pid, "go"); err != nil {
			t.Fatal(err)
		}
		if env := <-d.entered; env.Message != "first" {
			t.Fatalf("forwarded %+v", env)
		}
		if err := n.Exit(pid, actor.Kill); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if _, ok := n.WhereIs("sender"); ok {
			t.Fatal("the killed process's name is still registered")
		}
		w.quiet(t) // the DOWN waits for the forward in flight
		close(d.release)
		if r := w.down(t); !errors.Is(r, actor.Killed) {
			t.Fatalf("DOWN %v, want killed", r)
		}
		synctest.Wait()
		if !errors.Is(second, actor.ErrDead) {
			t.Fatalf("the zombie's second send: %v, want ErrDead", second)
		}
		select {
		case env := <-d.entered:
			t.Fatalf("the zombie forwarded %+v", env)
		default:
		}
	})
}
