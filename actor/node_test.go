package actor_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

func TestStop(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		var servers []*testServer
		var pids []actor.PID
		for range 3 {
			pid, s := spawnServer(t, n)
			pids, servers = append(pids, pid), append(servers, s)
		}
		spawnProbe(t, n, actor.WithTrapExit())
		if err := n.Stop(context.Background()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		for i, s := range servers {
			if m := <-s.ch; m != (terminated{actor.Shutdown}) {
				t.Errorf("server %d saw %#v, want Terminate(shutdown)", i, m)
			}
		}
		if ps := n.Processes(); len(ps) != 0 {
			t.Fatalf("processes left after Stop: %v", ps)
		}
		if _, err := n.Spawn(&probe{}); !errors.Is(err, actor.ErrNodeStopped) {
			t.Fatalf("Spawn after Stop = %v, want ErrNodeStopped", err)
		}
		if err := n.Send(pids[0], "x"); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("Send after Stop = %v, want ErrNoProc", err)
		}
		if err := n.Stop(context.Background()); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
	})
}

// Stop runs every process's Terminate, also for processes that a linked
// process stopped by the same Stop would otherwise take down first.
func TestStopTerminatesLinkedProcesses(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		const pairs = 1000
		var servers []*testServer
		for range pairs {
			a, sa := spawnServer(t, n)
			b, sb := spawnServer(t, n)
			if _, err := n.Call(t.Context(), a, callFn(func(p *actor.Process, _ actor.From) (any, error) {
				return nil, p.Link(b)
			})); err != nil {
				t.Fatal(err)
			}
			servers = append(servers, sa, sb)
		}
		if err := n.Stop(context.Background()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		for i, s := range servers {
			select {
			case m := <-s.ch:
				if m != (terminated{actor.Shutdown}) {
					t.Errorf("server %d saw %#v, want Terminate(shutdown)", i, m)
				}
			default:
				t.Errorf("server %d stopped without Terminate", i)
			}
		}
	})
}

// The deterministic form of the case above: a process that an exit signal takes
// down while the node stops runs Terminate too.
func TestStopTerminatesProcessEndedBySignal(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pid, s := spawnServer(t, n)
		other := spawnProbe(t, n)
		other.do(t, func(p *actor.Process) error { return p.Link(pid) })
		gate := make(chan struct{})
		if err := n.Cast(pid, func(*actor.Process) error { <-gate; return nil }); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the server is inside the handler
		// The linked process's exit signal arrives before the stop.
		w := watch(t, n, other.pid)
		other.async(t, func(*actor.Process) error { return actor.Shutdown })
		w.down(t)
		stopped := make(chan error)
		go func() { stopped <- n.Stop(context.Background()) }()
		synctest.Wait()
		close(gate)
		if err := <-stopped; err != nil {
			t.Fatalf("Stop: %v", err)
		}
		select {
		case m := <-s.ch:
			if m != (terminated{actor.Shutdown}) {
				t.Fatalf("server saw %#v, want Terminate(shutdown)", m)
			}
		default:
			t.Fatal("server stopped without Terminate")
		}
	})
}

func TestStopDeadline(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pid, s := spawnServer(t, n)
		gate := make(chan struct{})
		if err := n.Cast(pid, func(*actor.Process) error { <-gate; return nil }); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the server is inside the handler
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := n.Stop(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop with a blocked handler = %v, want a deadline error", err)
		}
		if el := time.Since(start); el != time.Second {
			t.Fatalf("Stop returned after %v, want 1s", el)
		}
		if _, err := n.Spawn(&probe{}); !errors.Is(err, actor.ErrNodeStopped) {
			t.Fatalf("Spawn while stopping = %v, want ErrNodeStopped", err)
		}
		close(gate)
		if err := n.Stop(context.Background()); err != nil {
			t.Fatalf("Stop once the handler returned: %v", err)
		}
		if m := <-s.ch; m != (terminated{actor.Shutdown}) {
			t.Fatalf("server saw %#v, want Terminate(shutdown)", m)
		}
	})
}

func TestPanicInHandler(t *testing.T) {
	errInner := errors.New("inner")
	tests := []struct {
		name  string
		value any
	}{
		{"string", "oops"},
		{"error", errInner},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				bystander, _ := spawnServer(t, n)
				pr := spawnProbe(t, n)
				w := watch(t, n, pr.pid)
				pr.async(t, func(*actor.Process) error { panic(tc.value) })
				var pe *actor.PanicError
				if r := w.down(t); !errors.As(r, &pe) {
					t.Fatalf("exit reason %#v, want *PanicError", r)
				}
				if pe.Value != tc.value || len(pe.Stack) == 0 {
					t.Fatalf("PanicError{Value: %#v, Stack: %d bytes}", pe.Value, len(pe.Stack))
				}
				if err, ok := tc.value.(error); ok && !errors.Is(pe, err) {
					t.Fatalf("errors.Is(PanicError, panic value) is false")
				}
				if v, err := n.Call(t.Context(), bystander, "still here"); err != nil || v != "still here" {
					t.Fatalf("another process after the panic: %v, %v", v, err)
				}
				spawnProbe(t, n) // the node still spawns
			})
		})
	}
}

func TestMailboxBound(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pr := spawnProbe(t, n, actor.WithMailboxBound(2))
		sender := spawnProbe(t, n)
		w := watch(t, n, pr.pid)
		gate := make(chan struct{})
		pr.async(t, func(*actor.Process) error { <-gate; return nil })
		synctest.Wait() // the monitor is set up and the blocking message is in hand
		if err := n.Send(pr.pid, "fits"); err != nil {
			t.Fatalf("Send below the bound: %v", err)
		}
		full := []struct {
			name string
			send func() error
		}{
			{"Node.Send", func() error { return n.Send(pr.pid, "x") }},
			{"Node.Cast", func() error { return n.Cast(pr.pid, "x") }},
			{"Process.Send", func() (err error) {
				sender.do(t, func(p *actor.Process) error { err = p.Send(pr.pid, "x"); return nil })
				return err
			}},
		}
		for _, f := range full {
			if err := f.send(); !errors.Is(err, actor.ErrMailboxFull) {
				t.Errorf("%s to a full mailbox = %v, want ErrMailboxFull", f.name, err)
			}
		}
		// A call is a message too: it is refused.
		if _, err := n.Call(context.Background(), pr.pid, "call"); !errors.Is(err, actor.ErrMailboxFull) {
			t.Errorf("Call to a full mailbox = %v, want ErrMailboxFull", err)
		}
		// Signals still get in: a monitor and a link.
		sender.do(t, func(p *actor.Process) error {
			p.Monitor(pr.pid)
			return p.Link(pr.pid)
		})
		synctest.Wait()
		close(gate)
		if m := pr.recv(t); m != "fits" {
			t.Fatalf("got %#v", m)
		}
		synctest.Wait()
		info, _ := n.Info(pr.pid)
		if !slices.Equal(info.Links, []actor.PID{sender.pid}) || !slices.Contains(info.MonitoredBy, sender.pid) {
			t.Fatalf("links %v, monitored by %v: the link or monitor was refused", info.Links, info.MonitoredBy)
		}
		if err := n.Send(pr.pid, "room again"); err != nil {
			t.Fatalf("Send after the mailbox drained: %v", err)
		}
		pr.recv(t)
		if err := n.Exit(pr.pid, errBoom); err != nil {
			t.Fatal(err)
		}
		if r := w.down(t); r != errBoom {
			t.Fatalf("exit reason %v", r)
		}
	})
}

// MailboxLen and the bound count the messages waiting and the one being
// handled, not those of the current batch that were already handled.
func TestMailboxLenWithinBatch(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pr := spawnProbe(t, n, actor.WithMailboxBound(4))
		gate1, gate2, in2 := make(chan struct{}), make(chan struct{}), make(chan struct{})
		pr.async(t, func(*actor.Process) error { <-gate1; return nil })
		synctest.Wait()
		// These arrive while the first message is handled, so they are
		// handled as one batch.
		for _, m := range []any{"b", "c", runFn{func(*actor.Process) error { close(in2); <-gate2; return nil }, make(chan struct{})}} {
			if err := n.Send(pr.pid, m); err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
		close(gate1)
		<-in2
		synctest.Wait()
		// Waiting: nothing; being handled: the third of the batch.
		if info, _ := n.Info(pr.pid); info.MailboxLen != 1 {
			t.Fatalf("MailboxLen = %d while handling the last message of a batch, want 1", info.MailboxLen)
		}
		for i, m := range []string{"e", "f", "g"} {
			if err := n.Send(pr.pid, m); err != nil {
				t.Fatalf("Send %q with %d of 4 places taken: %v", m, i+1, err)
			}
		}
		if err := n.Send(pr.pid, "h"); !errors.Is(err, actor.ErrMailboxFull) {
			t.Fatalf("Send to a full mailbox = %v, want ErrMailboxFull", err)
		}
		close(gate2)
		for _, want := range []string{"b", "c", "e", "f", "g"} {
			if m := pr.recv(t); m != want {
				t.Fatalf("got %#v, want %q", m, want)
			}
		}
	})
}

func TestPIDNeverReused(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		first := spawnProbe(t, n)
		w := watch(t, n, first.pid)
		first.async(t, func(*actor.Process) error { return actor.Normal })
		w.down(t)
		for range 100 {
			if pr := spawnProbe(t, n); pr.pid == first.pid {
				t.Fatalf("PID %v handed out again", pr.pid)
			}
		}
		if err := n.Send(first.pid, "x"); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("Send to an exited PID = %v, want ErrNoProc", err)
		}
		if _, err := n.Info(first.pid); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("Info of an exited PID = %v, want ErrNoProc", err)
		}
	})
}

// A PID of an earlier creation of a node reaches nothing on a later one, even
// where the later one has a process with the same id.
func TestPIDOtherCreation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := newNode(t, actor.Config{Name: "a"})
		oldPID := spawnProbe(t, old).pid
		n := newNode(t, actor.Config{Name: "a"})
		pr := spawnProbe(t, n)
		if n.Creation() == old.Creation() || pr.pid.ID != oldPID.ID {
			t.Fatalf("setup: creations %d, %d; ids %d, %d", n.Creation(), old.Creation(), pr.pid.ID, oldPID.ID)
		}
		if err := n.Send(oldPID, "x"); !errors.Is(err, actor.ErrNoProc) {
			t.Errorf("Send = %v, want ErrNoProc", err)
		}
		if _, err := n.Call(t.Context(), oldPID, "x"); !errors.Is(err, actor.ErrNoProc) {
			t.Errorf("Call = %v, want ErrNoProc", err)
		}
		if _, err := n.Info(oldPID); !errors.Is(err, actor.ErrNoProc) {
			t.Errorf("Info = %v, want ErrNoProc", err)
		}
		if err := n.Exit(oldPID, actor.Kill); !errors.Is(err, actor.ErrNoProc) {
			t.Errorf("Exit = %v, want ErrNoProc", err)
		}
		synctest.Wait()
		if !alive(n, pr.pid) {
			t.Error("the process with the same id died")
		}
		pr.quiet(t)
	})
}

func TestInfo(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		parent := spawnProbe(t, n)
		pr := parent.spawnChild(t, actor.WithName("info"), actor.WithTrapExit(), actor.WithLink())
		linked, watched, watcher := spawnProbe(t, n), spawnProbe(t, n), spawnProbe(t, n)
		pr.do(t, func(p *actor.Process) error {
			p.Monitor(watched.pid)
			return p.Link(linked.pid)
		})
		watcher.do(t, func(p *actor.Process) error { p.Monitor(pr.pid); return nil })
		synctest.Wait()
		got, err := n.Info(pr.pid)
		if err != nil {
			t.Fatal(err)
		}
		want := actor.ProcessInfo{
			PID:         pr.pid,
			Name:        "info",
			Status:      actor.StatusWaiting,
			TrapExit:    true,
			Parent:      parent.pid,
			Links:       []actor.PID{parent.pid, linked.pid},
			Monitors:    []actor.PID{watched.pid},
			MonitoredBy: []actor.PID{watcher.pid},
		}
		if !infoEqual(got, want) {
			t.Fatalf("Info =\n%+v, want\n%+v", got, want)
		}

		gate := make(chan struct{})
		pr.async(t, func(p *actor.Process) error { <-gate; p.TrapExit(false); return nil })
		for range 2 {
			if err := n.Send(pr.pid, "queued"); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		got, _ = n.Info(pr.pid)
		if got.Status != actor.StatusRunning || got.MailboxLen != 3 {
			t.Fatalf("while handling: status %q, mailbox %d; want running, 3", got.Status, got.MailboxLen)
		}
		close(gate)
		synctest.Wait()
		got, _ = n.Info(pr.pid)
		if got.Status != actor.StatusWaiting || got.MailboxLen != 0 || got.TrapExit {
			t.Fatalf("after: status %q, mailbox %d, trap exit %v; want waiting, 0, false", got.Status, got.MailboxLen, got.TrapExit)
		}
	})
}

func infoEqual(a, b actor.ProcessInfo) bool {
	return a.PID == b.PID && a.Name == b.Name && a.Status == b.Status && a.MailboxLen == b.MailboxLen &&
		a.TrapExit == b.TrapExit && a.Parent == b.Parent && slices.Equal(a.Links, b.Links) &&
		slices.Equal(a.Monitors, b.Monitors) && slices.Equal(a.MonitoredBy, b.MonitoredBy)
}

func TestProcesses(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		if ps := n.Processes(); len(ps) != 0 {
			t.Fatalf("new node has processes %v", ps)
		}
		a, b, c := spawnProbe(t, n), spawnProbe(t, n), spawnProbe(t, n)
		if ps := n.Processes(); !slices.Equal(ps, []actor.PID{a.pid, b.pid, c.pid}) {
			t.Fatalf("Processes = %v, want %v in spawn order", ps, []actor.PID{a.pid, b.pid, c.pid})
		}
		w := watch(t, n, b.pid)
		b.async(t, func(*actor.Process) error { return actor.Normal })
		w.down(t)
		if ps := n.Processes(); !slices.Equal(ps, []actor.PID{a.pid, c.pid, w.pid}) {
			t.Fatalf("Processes = %v after b exited", ps)
		}
	})
}
