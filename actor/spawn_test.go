package actor_test

import (
	"errors"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
)

func TestInitBeforeSpawnReturns(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		s := newServer()
		initDone := false
		s.init = func(p *actor.Process) error {
			initDone = true // no synchronisation: Init runs on the spawning goroutine
			// A message sent during Init waits until Init is over.
			return p.Send(p.Self(), "from init")
		}
		pid, err := n.Spawn(actor.Server(s))
		if err != nil {
			t.Fatal(err)
		}
		if !initDone {
			t.Fatal("Spawn returned before Init ran")
		}
		if m := <-s.ch; m != (gotInfo{"from init"}) {
			t.Fatalf("got %#v, want the message Init sent", m)
		}
		if !alive(n, pid) {
			t.Fatal("process gone")
		}
	})
}

func TestInitFailure(t *testing.T) {
	tests := []struct {
		name  string
		init  func(p *actor.Process) error
		check func(t *testing.T, err error)
	}{
		{"error", func(*actor.Process) error { return errBoom }, func(t *testing.T, err error) {
			if err != errBoom {
				t.Fatalf("Spawn error = %v, want boom", err)
			}
		}},
		{"panic", func(*actor.Process) error { panic("init broke") }, func(t *testing.T, err error) {
			var pe *actor.PanicError
			if !errors.As(err, &pe) || pe.Value != "init broke" || len(pe.Stack) == 0 {
				t.Fatalf("Spawn error = %#v, want a PanicError with a stack", err)
			}
		}},
		{"ignore", func(*actor.Process) error { return actor.Ignore }, func(t *testing.T, err error) {
			if err != actor.Ignore {
				t.Fatalf("Spawn error = %v, want Ignore", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				parent := spawnProbe(t, n)
				w := spawnProbe(t, n)
				before := n.Processes()
				s := newServer()
				s.init = func(p *actor.Process) error {
					// A monitor taken in Init must not outlive the failed spawn.
					if err := n.Send(w.pid, p.Self()); err != nil {
						return err
					}
					w.do(t, func(wp *actor.Process) error {
						wp.Monitor(p.Self())
						return nil
					})
					return tc.init(p)
				}
				var pid actor.PID
				var err error
				parent.do(t, func(p *actor.Process) error {
					pid, err = p.Spawn(actor.Server(s), actor.WithName("svc"), actor.WithLink())
					return nil
				})
				tc.check(t, err)
				if !pid.IsZero() {
					t.Fatalf("Spawn returned pid %v with its error", pid)
				}
				if after := n.Processes(); !slices.Equal(before, after) {
					t.Fatalf("Processes changed from %v to %v", before, after)
				}
				if _, ok := n.WhereIs("svc"); ok {
					t.Fatal("the failed process's name is still registered")
				}
				child := recvAs[actor.PID](t, w)
				if _, err := n.Info(child); !errors.Is(err, actor.ErrNoProc) {
					t.Fatalf("Info of the failed process = %v, want ErrNoProc", err)
				}
				if d := recvAs[actor.DownMessage](t, w); d.PID != child {
					t.Fatalf("got %+v", d)
				}
				synctest.Wait()
				if info, err := n.Info(parent.pid); err != nil || len(info.Links) != 0 {
					t.Fatalf("parent: %+v, %v; want alive and unlinked", info, err)
				}
				// The name can be used at once.
				if _, err := n.Spawn(&probe{}, actor.WithName("svc")); err != nil {
					t.Fatalf("respawn with the name: %v", err)
				}
			})
		})
	}
}

func TestWithLink(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		if _, err := n.Spawn(&probe{}, actor.WithLink()); !errors.Is(err, actor.ErrNoParent) {
			t.Fatalf("Node.Spawn WithLink = %v, want ErrNoParent", err)
		}
		parent := spawnProbe(t, n, actor.WithTrapExit())
		child := parent.spawnChild(t, actor.WithLink())
		pi, _ := n.Info(parent.pid)
		ci, _ := n.Info(child.pid)
		if !slices.Equal(pi.Links, []actor.PID{child.pid}) || !slices.Equal(ci.Links, []actor.PID{parent.pid}) {
			t.Fatalf("parent links %v, child links %v; want each other", pi.Links, ci.Links)
		}
		if ci.Parent != parent.pid || !pi.Parent.IsZero() {
			t.Fatalf("child's Parent = %v, parent's Parent = %v", ci.Parent, pi.Parent)
		}
		child.do(t, func(p *actor.Process) error {
			if p.Parent() != parent.pid {
				t.Errorf("Process.Parent = %v", p.Parent())
			}
			return nil
		})
		child.async(t, func(*actor.Process) error { return errBoom })
		if m := recvAs[actor.ExitMessage](t, parent); m != (actor.ExitMessage{From: child.pid, Reason: errBoom}) {
			t.Fatalf("parent got %#v", m)
		}
	})
}

func TestSpawnNilBehavior(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		if _, err := n.Spawn(nil); err == nil {
			t.Fatal("Spawn(nil) succeeded")
		}
		if len(n.Processes()) != 0 {
			t.Fatalf("Spawn(nil) left processes %v", n.Processes())
		}
	})
}
