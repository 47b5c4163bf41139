package actor_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

func TestSendAfter(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pr := spawnProbe(t, n)
		start := time.Now()
		n.SendAfter(5*time.Second, pr.pid, "node timer")
		pr.do(t, func(p *actor.Process) error {
			p.SendAfter(3*time.Second, p.Self(), "process timer")
			return nil
		})
		for _, want := range []struct {
			msg string
			at  time.Duration
		}{{"process timer", 3 * time.Second}, {"node timer", 5 * time.Second}} {
			if m := pr.recv(t); m != want.msg {
				t.Fatalf("got %#v, want %q", m, want.msg)
			}
			if at := time.Since(start); at != want.at {
				t.Fatalf("%q arrived after %v, want %v", want.msg, at, want.at)
			}
		}
	})
}

func TestSendAfterRemote(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		r := installRemote(n)
		start := time.Now()
		n.SendAfter(2*time.Second, remotePID, "far")
		env := r.next(t)
		if env != (actor.Envelope{Kind: actor.EnvMessage, To: remotePID, Message: "far"}) {
			t.Fatalf("forwarded %+v", env)
		}
		if at := time.Since(start); at != 2*time.Second {
			t.Fatalf("forwarded after %v, want 2s", at)
		}
		ref := n.SendAfter(time.Second, remotePID, "cancelled")
		if !n.CancelTimer(ref) {
			t.Fatal("CancelTimer of a pending remote timer returned false")
		}
		n.SendAfter(2*time.Second, remotePID, "marker")
		if env := r.next(t); env.Message != "marker" {
			t.Fatalf("forwarded %+v, want only the marker", env)
		}
	})
}

func TestCancelTimer(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pr := spawnProbe(t, n)
		cancelled := n.SendAfter(time.Second, pr.pid, "cancelled")
		var fromProc actor.TimerRef
		pr.do(t, func(p *actor.Process) error {
			fromProc = p.SendAfter(time.Second, p.Self(), "cancelled too")
			return nil
		})
		kept := n.SendAfter(2*time.Second, pr.pid, "kept")
		if !n.CancelTimer(cancelled) {
			t.Fatal("CancelTimer of a pending timer returned false")
		}
		pr.do(t, func(p *actor.Process) error {
			if !p.CancelTimer(fromProc) {
				t.Error("Process.CancelTimer of a pending timer returned false")
			}
			return nil
		})
		if n.CancelTimer(cancelled) {
			t.Fatal("second CancelTimer returned true")
		}
		// The first message to arrive is the later one: the cancelled ones never come.
		if m := pr.recv(t); m != "kept" {
			t.Fatalf("got %#v, want kept", m)
		}
		if n.CancelTimer(kept) {
			t.Fatal("CancelTimer after the timer fired returned true")
		}
		if n.CancelTimer(actor.TimerRef{}) {
			t.Fatal("CancelTimer of the zero TimerRef returned true")
		}
	})
}

// A timer whose destination exits is cancelled with it.
func TestTimerCancelledOnExit(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pr := spawnProbe(t, n)
		w := watch(t, n, pr.pid)
		var own actor.TimerRef
		pr.do(t, func(p *actor.Process) error {
			own = p.SendAfter(time.Hour, p.Self(), "tick")
			return nil
		})
		fromNode := n.SendAfter(time.Hour, pr.pid, "tock")
		pr.async(t, func(*actor.Process) error { return errBoom })
		w.down(t)
		if n.CancelTimer(own) {
			t.Error("CancelTimer of a dead process's own timer returned true")
		}
		if n.CancelTimer(fromNode) {
			t.Error("CancelTimer of a timer to a dead process returned true")
		}
		// A timer to a process that is already gone is born cancelled.
		if n.CancelTimer(n.SendAfter(time.Hour, pr.pid, "late")) {
			t.Error("CancelTimer of a timer to a dead process returned true")
		}
		synctest.Wait()
	})
}
