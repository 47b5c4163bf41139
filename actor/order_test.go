package actor_test

import (
	"testing"

	"github.com/gotp-dev/gotp/actor"
)

type seq struct {
	from actor.PID
	i    int
}

func TestSendOrder(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		const senders, count = 4, 2000
		recv := spawnProbe(t, n)
		var done []<-chan struct{}
		for range senders {
			s := spawnProbe(t, n)
			done = append(done, s.async(t, func(p *actor.Process) error {
				for i := range count {
					if err := p.Send(recv.pid, seq{p.Self(), i}); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		for _, d := range done {
			<-d
		}
		next := map[actor.PID]int{}
		for range senders * count {
			m := recvAs[seq](t, recv)
			if m.i != next[m.from] {
				t.Fatalf("from %v got message %d, want %d", m.from, m.i, next[m.from])
			}
			next[m.from]++
		}
	})
}

// A DownMessage or an ExitMessage never overtakes messages the dead process sent
// before it died.
func TestExitNotificationAfterMessages(t *testing.T) {
	const count = 1000
	tests := []struct {
		name  string
		watch func(p *actor.Process, target actor.PID) error
		check func(t *testing.T, m any, target actor.PID)
	}{
		{"monitor", func(p *actor.Process, target actor.PID) error {
			p.Monitor(target)
			return nil
		}, func(t *testing.T, m any, target actor.PID) {
			if d, ok := m.(actor.DownMessage); !ok || d.PID != target || d.Reason != errBoom {
				t.Fatalf("after the messages got %#v, want the DOWN", m)
			}
		}},
		{"link with trap exit", func(p *actor.Process, target actor.PID) error {
			p.TrapExit(true)
			return p.Link(target)
		}, func(t *testing.T, m any, target actor.PID) {
			if m != (actor.ExitMessage{From: target, Reason: errBoom}) {
				t.Fatalf("after the messages got %#v, want the ExitMessage", m)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				watcher, sender := spawnProbe(t, n), spawnProbe(t, n)
				watcher.do(t, func(p *actor.Process) error { return tc.watch(p, sender.pid) })
				sender.async(t, func(p *actor.Process) error {
					for i := range count {
						if err := p.Send(watcher.pid, i); err != nil {
							return err
						}
					}
					return errBoom
				})
				for i := range count {
					if m := watcher.recv(t); m != i {
						t.Fatalf("message %d is %#v", i, m)
					}
				}
				tc.check(t, watcher.recv(t), sender.pid)
			})
		})
	}
}
