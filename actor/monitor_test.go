package actor_test

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
)

func TestMonitorDown(t *testing.T) {
	tests := []struct {
		name   string
		stop   func(t *testing.T, n *actor.Node, target *probe)
		reason error // nil: a PanicError
	}{
		{"normal", func(t *testing.T, n *actor.Node, target *probe) {
			target.async(t, func(*actor.Process) error { return actor.Normal })
		}, actor.Normal},
		{"error", func(t *testing.T, n *actor.Node, target *probe) {
			target.async(t, func(*actor.Process) error { return errBoom })
		}, errBoom},
		{"kill", func(t *testing.T, n *actor.Node, target *probe) {
			if err := n.Exit(target.pid, actor.Kill); err != nil {
				t.Fatal(err)
			}
		}, actor.Killed},
		{"panic", func(t *testing.T, n *actor.Node, target *probe) {
			target.async(t, func(*actor.Process) error { panic("oops") })
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				target, watcher := spawnProbe(t, n), spawnProbe(t, n)
				var ref actor.Ref
				watcher.do(t, func(p *actor.Process) error {
					ref = p.Monitor(target.pid)
					return nil
				})
				tc.stop(t, n, target)
				d := recvAs[actor.DownMessage](t, watcher)
				if d.Ref != ref || d.PID != target.pid {
					t.Fatalf("got %+v, want ref %v and pid %v", d, ref, target.pid)
				}
				if tc.reason == nil {
					var pe *actor.PanicError
					if !errors.As(d.Reason, &pe) || pe.Value != "oops" {
						t.Fatalf("DOWN reason %v, want a PanicError", d.Reason)
					}
				} else if d.Reason != tc.reason {
					t.Fatalf("DOWN reason %v, want %v", d.Reason, tc.reason)
				}
				synctest.Wait()
				watcher.quiet(t)
				if info, _ := n.Info(watcher.pid); len(info.Monitors) != 0 {
					t.Fatalf("watcher still lists monitors %v", info.Monitors)
				}
			})
		})
	}
}

func TestMonitorMissingProcess(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		dead := spawnProbe(t, n)
		w := watch(t, n, dead.pid)
		dead.do(t, func(*actor.Process) error { return errBoom })
		w.down(t)
		other := newNode(t, actor.Config{Name: n.Name()})
		otherPID := spawnProbe(t, other).pid
		tests := []struct {
			name string
			pid  actor.PID
		}{
			{"dead", dead.pid},
			{"never existed", actor.PID{Node: n.Name(), Creation: n.Creation(), ID: 1 << 40}},
			{"earlier creation", otherPID},
		}
		watcher := spawnProbe(t, n)
		for _, tc := range tests {
			var ref actor.Ref
			watcher.do(t, func(p *actor.Process) error {
				ref = p.Monitor(tc.pid)
				return nil
			})
			want := actor.DownMessage{Ref: ref, PID: tc.pid, Reason: actor.ErrNoProc}
			if d := recvAs[actor.DownMessage](t, watcher); d != want {
				t.Errorf("%s: got %+v, want %+v", tc.name, d, want)
			}
		}
	})
}

func TestDemonitor(t *testing.T) {
	tests := []struct {
		name string
		// queued: the target is already dead and its DOWN waits in the
		// watcher's mailbox when Demonitor is called.
		queued bool
	}{
		{"target dies right after", false},
		{"DOWN already queued", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				target, watcher := spawnProbe(t, n), spawnProbe(t, n)
				w := watch(t, n, target.pid)
				var ref actor.Ref
				watcher.do(t, func(p *actor.Process) error {
					ref = p.Monitor(target.pid)
					return nil
				})
				var active bool
				if !tc.queued {
					watcher.do(t, func(p *actor.Process) error {
						active = p.Demonitor(ref)
						return p.Exit(target.pid, errBoom)
					})
					w.down(t)
				} else {
					gate := make(chan struct{})
					done := watcher.async(t, func(p *actor.Process) error {
						<-gate
						active = p.Demonitor(ref)
						return nil
					})
					target.async(t, func(*actor.Process) error { return errBoom })
					w.down(t)
					synctest.Wait()
					if info, _ := n.Info(watcher.pid); info.MailboxLen < 2 {
						t.Fatalf("watcher's mailbox holds %d entries, want the DOWN queued", info.MailboxLen)
					}
					close(gate)
					<-done
				}
				if !active {
					t.Error("Demonitor of an active monitor returned false")
				}
				synctest.Wait()
				watcher.quiet(t)
				watcher.do(t, func(p *actor.Process) error {
					if p.Demonitor(ref) {
						t.Error("second Demonitor returned true")
					}
					return nil
				})
			})
		})
	}
}

func TestSpawnMonitor(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		parent := spawnProbe(t, n)
		var child *probe
		var ref actor.Ref
		parent.do(t, func(p *actor.Process) error {
			child = &probe{n: n, ch: make(chan any, 16)}
			var err error
			child.pid, ref, err = p.SpawnMonitor(child)
			return err
		})
		if ref.IsZero() {
			t.Fatal("SpawnMonitor returned a zero ref")
		}
		pi, _ := n.Info(parent.pid)
		ci, _ := n.Info(child.pid)
		if len(pi.Monitors) != 1 || pi.Monitors[0] != child.pid || len(ci.MonitoredBy) != 1 || ci.MonitoredBy[0] != parent.pid {
			t.Fatalf("parent monitors %v, child monitored by %v", pi.Monitors, ci.MonitoredBy)
		}
		if len(ci.Links) != 0 || !ci.Parent.IsZero() {
			t.Fatalf("SpawnMonitor linked: links %v, parent %v", ci.Links, ci.Parent)
		}
		child.async(t, func(*actor.Process) error { return errBoom })
		want := actor.DownMessage{Ref: ref, PID: child.pid, Reason: errBoom}
		if d := recvAs[actor.DownMessage](t, parent); d != want {
			t.Fatalf("got %+v, want %+v", d, want)
		}
	})
}
