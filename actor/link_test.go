package actor_test

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
)

func TestLinkPropagatesExit(t *testing.T) {
	tests := []struct {
		name string
		// dying returns which of the two linked probes exits; the other one is
		// expected to die with it or, trapping, to get an ExitMessage.
		dyingIsLinker bool
		trap          bool
		reason        error
	}{
		{"linked process dies", false, false, errBoom},
		{"linking process dies", true, false, errBoom},
		{"linked process dies, trapped", false, true, errBoom},
		{"linking process dies, trapped", true, true, errBoom},
		{"shutdown kills a non-trapping process", false, false, actor.Shutdown},
		{"killed is an ordinary reason for links", false, true, actor.Killed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				linker, linked := spawnProbe(t, n), spawnProbe(t, n)
				dying, other := linked, linker
				if tc.dyingIsLinker {
					dying, other = linker, linked
				}
				other.do(t, func(p *actor.Process) error {
					p.TrapExit(tc.trap)
					return nil
				})
				linker.do(t, func(p *actor.Process) error { return p.Link(linked.pid) })
				w := watch(t, n, other.pid)

				dying.do(t, func(*actor.Process) error { return tc.reason })
				if !tc.trap {
					if r := w.down(t); r != tc.reason {
						t.Fatalf("other process exited with %v, want %v", r, tc.reason)
					}
					return
				}
				m := recvAs[actor.ExitMessage](t, other)
				if m != (actor.ExitMessage{From: dying.pid, Reason: tc.reason}) {
					t.Fatalf("trapping process got %#v, want ExitMessage from %v with %v", m, dying.pid, tc.reason)
				}
				synctest.Wait()
				if !alive(n, other.pid) {
					t.Fatal("trapping process died")
				}
				if info, _ := n.Info(other.pid); len(info.Links) != 0 {
					t.Fatalf("link to the dead process still listed: %v", info.Links)
				}
			})
		})
	}
}

func TestLinkNormalExit(t *testing.T) {
	for _, trap := range []bool{false, true} {
		name := map[bool]string{false: "not trapping", true: "trapping"}[trap]
		t.Run(name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				a := spawnProbe(t, n)
				b := a.spawnChild(t, actor.WithLink())
				a.do(t, func(p *actor.Process) error {
					p.TrapExit(trap)
					return nil
				})
				w := watch(t, n, b.pid)
				b.do(t, func(*actor.Process) error { return actor.Normal })
				w.down(t)
				synctest.Wait()
				if !alive(n, a.pid) {
					t.Fatal("a normal exit killed a linked process")
				}
				if trap {
					if m := recvAs[actor.ExitMessage](t, a); m != (actor.ExitMessage{From: b.pid, Reason: actor.Normal}) {
						t.Fatalf("got %#v, want ExitMessage{%v, normal}", m, b.pid)
					}
				}
				a.quiet(t)
			})
		})
	}
}

// TestExitSignal covers exit/2: Exit(pid, reason) sent from a process and from
// outside, to trapping and non-trapping targets.
func TestExitSignal(t *testing.T) {
	tests := []struct {
		name   string
		reason error
		trap   bool
		self   bool  // the target sends the signal to itself
		dies   error // the target's exit reason, or nil if it lives
	}{
		{"normal is ignored", actor.Normal, false, false, nil},
		{"normal is trapped", actor.Normal, true, false, nil},
		{"normal to self ends the process", actor.Normal, false, true, actor.Normal},
		{"other reason kills", errBoom, false, false, errBoom},
		{"other reason is trapped", errBoom, true, false, nil},
		{"kill kills", actor.Kill, false, false, actor.Killed},
		{"kill cannot be trapped", actor.Kill, true, false, actor.Killed},
		{"kill to self cannot be trapped", actor.Kill, true, true, actor.Killed},
	}
	senders := []string{"process", "node"}
	for _, tc := range tests {
		for _, sender := range senders {
			if tc.self && sender == "node" {
				continue
			}
			t.Run(tc.name+"/from "+sender, func(t *testing.T) {
				bubble(t, func(t *testing.T, n *actor.Node) {
					var opts []actor.SpawnOption
					if tc.trap {
						opts = append(opts, actor.WithTrapExit())
					}
					target := spawnProbe(t, n, opts...)
					w := watch(t, n, target.pid)
					from := actor.PID{Node: n.Name(), Creation: n.Creation()}
					switch {
					case tc.self:
						from = target.pid
						target.async(t, func(p *actor.Process) error { return p.Exit(p.Self(), tc.reason) })
					case sender == "process":
						from = w.pid
						w.do(t, func(p *actor.Process) error { return p.Exit(target.pid, tc.reason) })
					default:
						if err := n.Exit(target.pid, tc.reason); err != nil {
							t.Fatal(err)
						}
					}
					if tc.dies != nil {
						if r := w.down(t); r != tc.dies {
							t.Fatalf("target exited with %v, want %v", r, tc.dies)
						}
						return
					}
					if tc.trap {
						if m := recvAs[actor.ExitMessage](t, target); m != (actor.ExitMessage{From: from, Reason: tc.reason}) {
							t.Fatalf("target got %#v, want ExitMessage{%v, %v}", m, from, tc.reason)
						}
					}
					synctest.Wait()
					if !alive(n, target.pid) {
						t.Fatal("target died")
					}
					w.quiet(t)
					target.quiet(t)
				})
			})
		}
	}
}

// Kill cannot be trapped, and the processes linked to its target get Killed,
// which they can trap.
func TestKillLinked(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		target := spawnProbe(t, n, actor.WithTrapExit())
		trapper := spawnProbe(t, n, actor.WithTrapExit())
		plain := spawnProbe(t, n)
		for _, pr := range []*probe{trapper, plain} {
			pr.do(t, func(p *actor.Process) error { return p.Link(target.pid) })
		}
		wTarget, wPlain := watch(t, n, target.pid), watch(t, n, plain.pid)
		if err := n.Exit(target.pid, actor.Kill); err != nil {
			t.Fatal(err)
		}
		if r := wTarget.down(t); r != actor.Killed {
			t.Fatalf("target exited with %v, want killed", r)
		}
		if m := recvAs[actor.ExitMessage](t, trapper); m != (actor.ExitMessage{From: target.pid, Reason: actor.Killed}) {
			t.Fatalf("trapping linked process got %#v, want ExitMessage{%v, killed}", m, target.pid)
		}
		if r := wPlain.down(t); r != actor.Killed {
			t.Fatalf("non-trapping linked process exited with %v, want killed", r)
		}
		synctest.Wait()
		target.quiet(t)
		if !alive(n, trapper.pid) {
			t.Fatal("trapping linked process died of killed")
		}
	})
}

func TestUnlink(t *testing.T) {
	tests := []struct {
		name string
		// inFlight: the linked process is already dead, its exit signal queued,
		// when Unlink is called.
		inFlight bool
	}{
		{"before the exit", false},
		{"exit signal already on its way", true},
	}
	for _, tc := range tests {
		for _, trap := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "", true: "/trapping"}[trap]
			t.Run(name, func(t *testing.T) {
				bubble(t, func(t *testing.T, n *actor.Node) {
					a, b := spawnProbe(t, n), spawnProbe(t, n)
					a.do(t, func(p *actor.Process) error {
						p.TrapExit(trap)
						return p.Link(b.pid)
					})
					wb := watch(t, n, b.pid)
					if !tc.inFlight {
						a.do(t, func(p *actor.Process) error { p.Unlink(b.pid); return nil })
						synctest.Wait()
						for _, pid := range []actor.PID{a.pid, b.pid} {
							if info, _ := n.Info(pid); len(info.Links) != 0 {
								t.Fatalf("%v still lists links %v after Unlink", pid, info.Links)
							}
						}
						b.do(t, func(*actor.Process) error { return errBoom })
						wb.down(t)
					} else {
						gate := make(chan struct{})
						wa := watch(t, n, a.pid)
						done := a.async(t, func(p *actor.Process) error {
							<-gate // b dies meanwhile
							p.Unlink(b.pid)
							return nil
						})
						synctest.Wait() // a is inside its handler
						b.do(t, func(*actor.Process) error { return errBoom })
						wb.down(t)
						synctest.Wait()
						if !trap {
							// The exit signal acted when it arrived: a dies
							// once its handler returns, Unlink or not.
							close(gate)
							<-done
							if r := wa.down(t); r != errBoom {
								t.Fatalf("a exited with %v, want %v", r, errBoom)
							}
							return
						}
						if info, _ := n.Info(a.pid); info.MailboxLen < 2 {
							t.Fatalf("a's mailbox holds %d entries; want the exit signal queued behind the running one", info.MailboxLen)
						}
						close(gate)
						<-done
					}
					synctest.Wait()
					if !alive(n, a.pid) {
						t.Fatal("unlinked process died with the other")
					}
					a.quiet(t)
				})
			})
		}
	}
}

func TestLinkToDeadProcess(t *testing.T) {
	for _, trap := range []bool{false, true} {
		name := map[bool]string{false: "not trapping", true: "trapping"}[trap]
		t.Run(name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				dead := spawnProbe(t, n)
				wd := watch(t, n, dead.pid)
				dead.do(t, func(*actor.Process) error { return actor.Normal })
				wd.down(t)

				var opts []actor.SpawnOption
				if trap {
					opts = append(opts, actor.WithTrapExit())
				}
				a := spawnProbe(t, n, opts...)
				w := watch(t, n, a.pid)
				var err error
				a.do(t, func(p *actor.Process) error {
					err = p.Link(dead.pid)
					return nil
				})
				if !errors.Is(err, actor.ErrNoProc) {
					t.Fatalf("Link to a dead process = %v, want ErrNoProc", err)
				}
				if !trap {
					if r := w.down(t); !errors.Is(r, actor.ErrNoProc) {
						t.Fatalf("linking process exited with %v, want noproc", r)
					}
					return
				}
				if m := recvAs[actor.ExitMessage](t, a); m != (actor.ExitMessage{From: dead.pid, Reason: actor.ErrNoProc}) {
					t.Fatalf("got %#v, want ExitMessage{%v, noproc}", m, dead.pid)
				}
				synctest.Wait()
				if info, err := n.Info(a.pid); err != nil || len(info.Links) != 0 {
					t.Fatalf("Info = %+v, %v; want alive with no links", info, err)
				}
			})
		})
	}
}
