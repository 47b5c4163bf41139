package actor_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// never is a callFn that never answers.
func never(*actor.Process, actor.From) (any, error) { return actor.NoReply, nil }

func TestCallTimeout(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pid, _ := spawnServer(t, n)
		const d = 5 * time.Second
		callers := []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"Node.Call", func(ctx context.Context) error {
				_, err := n.Call(ctx, pid, callFn(never))
				return err
			}},
			{"Process.Call", func(ctx context.Context) (err error) {
				spawnProbe(t, n).do(t, func(p *actor.Process) error {
					_, err = p.Call(ctx, pid, callFn(never))
					return nil
				})
				return err
			}},
		}
		for _, c := range callers {
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), d)
			err := c.call(ctx)
			cancel()
			if !errors.Is(err, actor.ErrTimeout) {
				t.Errorf("%s: err = %v, want ErrTimeout", c.name, err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: errors.Is(%v, context.DeadlineExceeded) is false", c.name, err)
			}
			if el := time.Since(start); el != d {
				t.Errorf("%s: returned after %v, want %v", c.name, el, d)
			}
		}
	})
}

func TestCallContextDone(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		// cancelLater cancels the context once the call is pending.
		cancelLater bool
		want        error
	}{
		{"cancelled while waiting", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, true, context.Canceled},
		{"cancelled before", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, false, context.Canceled},
		{"deadline passed before", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, false, actor.ErrTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				pid, _ := spawnServer(t, n)
				ctx, cancel := tc.ctx()
				defer cancel()
				errc := make(chan error, 1)
				go func() {
					_, err := n.Call(ctx, pid, callFn(never))
					errc <- err
				}()
				if tc.cancelLater {
					synctest.Wait()
					cancel()
				}
				if err := <-errc; !errors.Is(err, tc.want) {
					t.Fatalf("Call error = %v, want %v", err, tc.want)
				}
			})
		})
	}
}

func TestCallNoProc(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		dead, _ := spawnServer(t, n)
		w := watch(t, n, dead)
		if err := n.Exit(dead, actor.Kill); err != nil {
			t.Fatal(err)
		}
		w.down(t)
		other := newNode(t, actor.Config{Name: n.Name()}) // another creation
		otherPID, _ := spawnServer(t, other)

		byPID := func(pid actor.PID) func(p *actor.Process) error {
			return func(p *actor.Process) error {
				if p == nil {
					_, err := n.Call(t.Context(), pid, "x")
					return err
				}
				_, err := p.Call(t.Context(), pid, "x")
				return err
			}
		}
		tests := []struct {
			name string
			call func(p *actor.Process) error // p is nil when calling from outside
		}{
			{"dead PID", byPID(dead)},
			{"PID never used", byPID(actor.PID{Node: n.Name(), Creation: n.Creation(), ID: 1 << 40})},
			{"PID of another creation", byPID(otherPID)},
			{"zero PID", byPID(actor.PID{})},
			{"empty name", func(p *actor.Process) error {
				if p == nil {
					_, err := n.Call(t.Context(), actor.Name{}, "x")
					return err
				}
				_, err := p.Call(t.Context(), actor.Name{}, "x")
				return err
			}},
			{"unregistered name", func(p *actor.Process) error {
				if p == nil {
					_, err := n.Call(t.Context(), actor.Name{Name: "nobody"}, "x")
					return err
				}
				_, err := p.Call(t.Context(), actor.Name{Name: "nobody"}, "x")
				return err
			}},
		}
		caller := spawnProbe(t, n)
		for _, tc := range tests {
			if err := tc.call(nil); !errors.Is(err, actor.ErrNoProc) {
				t.Errorf("%s, from outside: err = %v, want ErrNoProc", tc.name, err)
			}
			var err error
			caller.do(t, func(p *actor.Process) error {
				err = tc.call(p)
				return nil
			})
			if !errors.Is(err, actor.ErrNoProc) {
				t.Errorf("%s, from a process: err = %v, want ErrNoProc", tc.name, err)
			}
		}
	})
}

func TestCallCalleeExits(t *testing.T) {
	tests := []struct {
		name string
		// call makes the call that the callee does not survive; it returns the
		// reason the callee is expected to exit with (nil: check PanicError).
		call func(t *testing.T, n *actor.Node, pid actor.PID) (error, error)
	}{
		{"HandleCall returns an error", func(t *testing.T, n *actor.Node, pid actor.PID) (error, error) {
			_, err := n.Call(t.Context(), pid, exitWith(errBoom))
			return err, errBoom
		}},
		{"exits with noconnection", func(t *testing.T, n *actor.Node, pid actor.PID) (error, error) {
			// A callee that ran and died of a lost link is an exit, not a
			// lost connection of the caller's own.
			_, err := n.Call(t.Context(), pid, exitWith(actor.ErrNoConnection))
			return err, actor.ErrNoConnection
		}},
		{"HandleCall returns normal", func(t *testing.T, n *actor.Node, pid actor.PID) (error, error) {
			_, err := n.Call(t.Context(), pid, exitWith(actor.Normal))
			return err, actor.Normal
		}},
		{"HandleCall panics", func(t *testing.T, n *actor.Node, pid actor.PID) (error, error) {
			_, err := n.Call(t.Context(), pid, callFn(func(*actor.Process, actor.From) (any, error) {
				panic("bad state")
			}))
			return err, nil
		}},
		{"killed while the reply is deferred", func(t *testing.T, n *actor.Node, pid actor.PID) (error, error) {
			errc := make(chan error, 1)
			go func() {
				_, err := n.Call(t.Context(), pid, callFn(never))
				errc <- err
			}()
			synctest.Wait()
			if err := n.Exit(pid, actor.Kill); err != nil {
				t.Fatal(err)
			}
			return <-errc, actor.Killed
		}},
		{"dies with the call still queued", func(t *testing.T, n *actor.Node, pid actor.PID) (error, error) {
			gate := make(chan struct{})
			if err := n.Cast(pid, func(*actor.Process) error { <-gate; return errBoom }); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				_, err := n.Call(t.Context(), pid, "never handled")
				errc <- err
			}()
			synctest.Wait()
			close(gate)
			return <-errc, errBoom
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				pid, _ := spawnServer(t, n)
				w := watch(t, n, pid)
				err, reason := tc.call(t, n, pid)
				exitReason := w.down(t)
				var ee *actor.ExitError
				if !errors.As(err, &ee) {
					t.Fatalf("Call error = %#v, want an *ExitError", err)
				}
				if ee.PID != pid {
					t.Errorf("ExitError.PID = %v, want %v", ee.PID, pid)
				}
				if reason == nil {
					var pe *actor.PanicError
					if !errors.As(err, &pe) || pe.Value != "bad state" {
						t.Fatalf("Call error = %v, want a PanicError for \"bad state\"", err)
					}
					reason = pe
				}
				if !errors.Is(err, reason) || ee.Reason != exitReason {
					t.Fatalf("Call error = %v (reason %v), callee exited with %v, want %v", err, ee.Reason, exitReason, reason)
				}
			})
		})
	}
}

// A reply that comes after the caller gave up must vanish: it must not turn up
// in the calling process's mailbox.
func TestCallLateReplyDropped(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		server, _ := spawnServer(t, n)
		froms := make(chan actor.From, 1)
		keep := callFn(func(_ *actor.Process, from actor.From) (any, error) {
			froms <- from
			return actor.NoReply, nil
		})
		caller := spawnProbe(t, n)
		var err error
		caller.do(t, func(p *actor.Process) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err = p.Call(ctx, server, keep)
			return nil
		})
		if !errors.Is(err, actor.ErrTimeout) {
			t.Fatalf("Call error = %v, want ErrTimeout", err)
		}
		// Now the server answers, from its own process.
		from := <-froms
		if err := n.Cast(server, func(p *actor.Process) error {
			p.Reply(from, "too late")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		caller.quiet(t)
		info, err := n.Info(caller.pid)
		if err != nil {
			t.Fatal(err)
		}
		if info.MailboxLen != 0 {
			t.Fatalf("caller's mailbox holds %d messages after the late reply, want 0", info.MailboxLen)
		}
		if err := n.Send(caller.pid, "next"); err != nil {
			t.Fatal(err)
		}
		if m := caller.recv(t); m != "next" {
			t.Fatalf("caller's next message is %#v, want \"next\"", m)
		}
	})
}

func TestCallSelf(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		pr := spawnProbe(t, n, actor.WithName("me"))
		pr.do(t, func(p *actor.Process) error {
			if _, err := p.Call(t.Context(), p.Self(), "x"); !errors.Is(err, actor.ErrCallSelf) {
				t.Errorf("Call(self) = %v, want ErrCallSelf", err)
			}
			if _, err := p.Call(t.Context(), actor.Name{Name: "me"}, "x"); !errors.Is(err, actor.ErrCallSelf) {
				t.Errorf("CallName(own name) = %v, want ErrCallSelf", err)
			}
			if _, err := p.Call(t.Context(), actor.Name{Node: n.Name(), Name: "me"}, "x"); !errors.Is(err, actor.ErrCallSelf) {
				t.Errorf("CallName(own name@node) = %v, want ErrCallSelf", err)
			}
			return nil
		})
	})
}

// Once a call is over, whoever answered it and however it ended, the callee
// holds nothing for it.
func TestCallMonitorReleased(t *testing.T) {
	tests := []struct {
		name string
		call func(t *testing.T, n *actor.Node, server actor.PID)
	}{
		{"direct reply", func(t *testing.T, n *actor.Node, server actor.PID) {
			if _, err := n.Call(t.Context(), server, "x"); err != nil {
				t.Fatal(err)
			}
		}},
		{"error reply", func(t *testing.T, n *actor.Node, server actor.PID) {
			_, _ = n.Call(t.Context(), server, callFn(func(*actor.Process, actor.From) (any, error) { return errBoom, nil }))
		}},
		{"reply from another process", func(t *testing.T, n *actor.Node, server actor.PID) {
			helper := spawnProbe(t, n)
			_, err := n.Call(t.Context(), server, callFn(func(p *actor.Process, from actor.From) (any, error) {
				helper.async(t, func(hp *actor.Process) error { hp.Reply(from, "ok"); return nil })
				return actor.NoReply, nil
			}))
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"reply from a goroutine", func(t *testing.T, n *actor.Node, server actor.PID) {
			_, err := n.Call(t.Context(), server, callFn(func(p *actor.Process, from actor.From) (any, error) {
				go n.Reply(from, "ok")
				return actor.NoReply, nil
			}))
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"caller timed out", func(t *testing.T, n *actor.Node, server actor.PID) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, _ = n.Call(ctx, server, callFn(never))
		}},
		{"from a process, reply from another process", func(t *testing.T, n *actor.Node, server actor.PID) {
			helper := spawnProbe(t, n)
			spawnProbe(t, n).do(t, func(p *actor.Process) error {
				_, err := p.Call(t.Context(), server, callFn(func(_ *actor.Process, from actor.From) (any, error) {
					helper.async(t, func(hp *actor.Process) error { hp.Reply(from, "ok"); return nil })
					return actor.NoReply, nil
				}))
				return err
			})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				server, _ := spawnServer(t, n)
				tc.call(t, n, server)
				synctest.Wait()
				if c := actor.CallMonitors(n, server); c != 0 {
					t.Fatalf("the server holds %d call monitors after the call", c)
				}
			})
		})
	}
}
