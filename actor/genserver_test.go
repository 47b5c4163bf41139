package actor_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
)

func TestServerCallCastInfo(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pid, s := spawnServer(t, n)

		got, err := n.Call(t.Context(), pid, 42)
		if err != nil || got != 42 {
			t.Fatalf("Call = %v, %v; want 42, nil", got, err)
		}
		if err := n.Cast(pid, "cast"); err != nil {
			t.Fatalf("Cast: %v", err)
		}
		if m := <-s.ch; m != (gotCast{"cast"}) {
			t.Fatalf("after Cast the server saw %#v, want HandleCast(\"cast\")", m)
		}
		if err := n.Send(pid, "info"); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if m := <-s.ch; m != (gotInfo{"info"}) {
			t.Fatalf("after Send the server saw %#v, want HandleInfo(\"info\")", m)
		}

		// The same from inside a process, and by name.
		if err := n.Register("srv", pid); err != nil {
			t.Fatal(err)
		}
		pr := spawnProbe(t, n)
		pr.do(t, func(p *actor.Process) error {
			got, err := p.Call(t.Context(), pid, "x")
			if err != nil || got != "x" {
				t.Errorf("Process.Call = %v, %v; want x, nil", got, err)
			}
			got, err = p.Call(t.Context(), actor.Name{Name: "srv"}, "y")
			if err != nil || got != "y" {
				t.Errorf("Process.CallName = %v, %v; want y, nil", got, err)
			}
			if err := p.Cast(actor.Name{Name: "srv"}, "c2"); err != nil {
				t.Errorf("CastName: %v", err)
			}
			return p.Send(pid, "i2")
		})
		if m := <-s.ch; m != (gotCast{"c2"}) {
			t.Fatalf("got %#v, want cast c2", m)
		}
		if m := <-s.ch; m != (gotInfo{"i2"}) {
			t.Fatalf("got %#v, want info i2", m)
		}
		got, err = n.Call(t.Context(), actor.Name{Node: n.Name(), Name: "srv"}, "z")
		if err != nil || got != "z" {
			t.Fatalf("Node.CallName = %v, %v; want z, nil", got, err)
		}
	})
}

func TestServerDeferredReply(t *testing.T) {
	// Each case makes HandleCall return NoReply and answers the call later.
	tests := []struct {
		name string
		// handle returns the callFn the server runs; release, called by the
		// test once the call is pending, makes the answer happen.
		setup func(t *testing.T, n *actor.Node) (handle callFn, release func())
	}{
		{"Process.Reply from another process", func(t *testing.T, n *actor.Node) (callFn, func()) {
			helper := spawnProbe(t, n)
			handle := func(p *actor.Process, from actor.From) (any, error) {
				return actor.NoReply, p.Send(helper.pid, from)
			}
			return handle, func() {
				from := recvAs[actor.From](t, helper)
				helper.do(t, func(p *actor.Process) error {
					p.Reply(from, "late")
					return nil
				})
			}
		}},
		{"Node.Reply from a goroutine", func(t *testing.T, n *actor.Node) (callFn, func()) {
			froms := make(chan actor.From, 1)
			gate := make(chan struct{})
			go func() {
				from := <-froms
				<-gate
				n.Reply(from, "late")
			}()
			handle := func(p *actor.Process, from actor.From) (any, error) {
				froms <- from
				return actor.NoReply, nil
			}
			return handle, func() { close(gate) }
		}},
		{"Process.Reply by the server in a later callback", func(t *testing.T, n *actor.Node) (callFn, func()) {
			var kept actor.From
			var server actor.PID
			handle := func(p *actor.Process, from actor.From) (any, error) {
				kept, server = from, p.Self()
				return actor.NoReply, nil
			}
			return handle, func() {
				synctest.Wait() // the call is pending
				err := n.Cast(server, func(p *actor.Process) error {
					p.Reply(kept, "late")
					return nil
				})
				if err != nil {
					t.Errorf("Cast: %v", err)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				pid, _ := spawnServer(t, n)
				handle, release := tc.setup(t, n)
				type result struct {
					v   any
					err error
				}
				res := make(chan result, 1)
				go func() {
					v, err := n.Call(context.Background(), pid, handle)
					res <- result{v, err}
				}()
				synctest.Wait()
				select {
				case r := <-res:
					t.Fatalf("Call returned %v, %v before the reply was sent", r.v, r.err)
				default:
				}
				release()
				if r := <-res; r.err != nil || r.v != "late" {
					t.Fatalf("Call = %v, %v; want late, nil", r.v, r.err)
				}
				// The server is still serving.
				if v, err := n.Call(t.Context(), pid, "again"); err != nil || v != "again" {
					t.Fatalf("next Call = %v, %v", v, err)
				}
			})
		})
	}
}

func TestServerErrorReply(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pid, _ := spawnServer(t, n)
		errBad := errors.New("bad request")
		tests := []struct {
			name  string
			reply error
		}{
			{"plain", errBad},
			{"wrapped", fmt.Errorf("checking: %w", errBad)},
		}
		for _, tc := range tests {
			v, err := n.Call(t.Context(), pid, callFn(func(*actor.Process, actor.From) (any, error) {
				return tc.reply, nil
			}))
			if v != nil || !errors.Is(err, errBad) {
				t.Errorf("%s: Call = %v, %v; want nil, %v", tc.name, v, err, tc.reply)
			}
			var ee *actor.ExitError
			if errors.As(err, &ee) {
				t.Errorf("%s: an error reply came back as an exit: %v", tc.name, err)
			}
		}
		if !alive(n, pid) {
			t.Fatal("replying with an error value stopped the server")
		}
	})
}

func TestServerTerminate(t *testing.T) {
	tests := []struct {
		name   string
		stop   func(t *testing.T, n *actor.Node, pid actor.PID)
		reason error
	}{
		{"HandleCall error", func(t *testing.T, n *actor.Node, pid actor.PID) {
			_, _ = n.Call(t.Context(), pid, exitWith(errBoom))
		}, errBoom},
		{"HandleCast error", func(t *testing.T, n *actor.Node, pid actor.PID) {
			_ = n.Cast(pid, func(*actor.Process) error { return actor.Normal })
		}, actor.Normal},
		{"panic", func(t *testing.T, n *actor.Node, pid actor.PID) {
			_, _ = n.Call(t.Context(), pid, callFn(func(*actor.Process, actor.From) (any, error) { panic(errBoom) }))
		}, errBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				pid, s := spawnServer(t, n)
				w := watch(t, n, pid)
				tc.stop(t, n, pid)
				m, ok := (<-s.ch).(terminated)
				if !ok || !errors.Is(m.reason, tc.reason) {
					t.Fatalf("Terminate got %#v, want reason %v", m, tc.reason)
				}
				if r := w.down(t); r != m.reason {
					t.Fatalf("exit reason %v, Terminate saw %v", r, m.reason)
				}
			})
		})
	}
}

// Like an OTP gen_server, a server that does not trap exits is ended by an exit
// signal without running Terminate.
func TestServerNoTerminateOnExitSignal(t *testing.T) {
	for _, reason := range []error{errBoom, actor.Kill} {
		t.Run(reason.Error(), func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				pid, s := spawnServer(t, n)
				w := watch(t, n, pid)
				if err := n.Exit(pid, reason); err != nil {
					t.Fatal(err)
				}
				w.down(t)
				synctest.Wait()
				select {
				case m := <-s.ch:
					t.Fatalf("server saw %#v", m)
				default:
				}
			})
		})
	}
}

// A gen_server trapping exits stops, running Terminate, when its parent exits.
func TestServerStopsWithParent(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		parent := spawnProbe(t, n)
		s := newServer()
		var child actor.PID
		parent.do(t, func(p *actor.Process) error {
			var err error
			child, err = p.Spawn(actor.Server(s), actor.WithLink(), actor.WithTrapExit())
			return err
		})
		w := watch(t, n, child)
		// An exit signal from some other linked process is only an info.
		other := spawnProbe(t, n)
		other.do(t, func(p *actor.Process) error { return p.Link(child) })
		other.do(t, func(*actor.Process) error { return errBoom })
		if m := (<-s.ch).(gotInfo); m.msg != (actor.ExitMessage{From: other.pid, Reason: errBoom}) {
			t.Fatalf("server saw %#v, want the ExitMessage from the other process", m)
		}

		parent.do(t, func(*actor.Process) error { return actor.Shutdown })
		if m := <-s.ch; m != (terminated{actor.Shutdown}) {
			t.Fatalf("server saw %#v, want Terminate(shutdown)", m)
		}
		if r := w.down(t); r != actor.Shutdown {
			t.Fatalf("server exited with %v, want shutdown", r)
		}
	})
}
