package supervisor_test

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// TestStopOrder: Stop stops the children one at a time in reverse start
// order, then the supervisor exits normally, leaving no process behind.
func TestStopOrder(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{
			recWorker("a", log), recWorker("b", log), recWorker("c", log), recWorker("d", log),
		}})
		monitor(t, n, sup, "sup", log)
		log.expect(t, "start a", "start b", "start c", "start d")
		if err := supervisor.Stop(ctx, n, sup); err != nil {
			t.Fatal(err)
		}
		log.expect(t, "stop d shutdown", "stop c shutdown", "stop b shutdown", "stop a shutdown", "down sup normal")
		if procs := n.Processes(); len(procs) != 0 {
			t.Errorf("processes left: %v", procs)
		}
		if err := supervisor.Stop(ctx, n, sup); !errors.Is(err, actor.ErrNoProc) {
			t.Errorf("Stop of a stopped supervisor: %v, want ErrNoProc", err)
		}
	})
}

// TestShutdownTimeouts: TerminateChild honours the child's Shutdown, in fake
// time: BrutalKill kills at once, a timeout kills a child that has not
// stopped by then, Infinity waits as long as it takes.
func TestShutdownTimeouts(t *testing.T) {
	cases := []struct {
		name        string
		spec        func(log *eventLog) supervisor.ChildSpec
		wantElapsed time.Duration
		wantReason  error
		wantEvents  []string
	}{
		{
			name:        "brutal kill of a child that would ignore shutdown",
			spec:        func(log *eventLog) supervisor.ChildSpec { return stubborn("x", log, supervisor.BrutalKill, 0) },
			wantElapsed: 0, wantReason: actor.Killed,
		},
		{
			name: "brutal kill of a willing child does not let it clean up",
			spec: func(log *eventLog) supervisor.ChildSpec {
				c := recWorker("x", log)
				c.Shutdown = supervisor.BrutalKill
				return c
			},
			wantElapsed: 0, wantReason: actor.Killed,
		},
		{
			name:        "willing child stops at once",
			spec:        func(log *eventLog) supervisor.ChildSpec { return recWorker("x", log) },
			wantElapsed: 0, wantReason: actor.Shutdown,
			wantEvents: []string{"stop x shutdown"},
		},
		{
			name:        "child ignoring shutdown is killed after its timeout",
			spec:        func(log *eventLog) supervisor.ChildSpec { return stubborn("x", log, 2*time.Second, 0) },
			wantElapsed: 2 * time.Second, wantReason: actor.Killed,
			wantEvents: []string{"x asked to stop"},
		},
		{
			name:        "default worker timeout is five seconds",
			spec:        func(log *eventLog) supervisor.ChildSpec { return stubborn("x", log, 0, 0) },
			wantElapsed: 5 * time.Second, wantReason: actor.Killed,
			wantEvents: []string{"x asked to stop"},
		},
		{
			name:        "slow child within its timeout is not killed",
			spec:        func(log *eventLog) supervisor.ChildSpec { return stubborn("x", log, 5*time.Second, 3*time.Second) },
			wantElapsed: 3 * time.Second, wantReason: actor.Shutdown,
			wantEvents: []string{"x asked to stop", "x stops"},
		},
		{
			name:        "slow child past its timeout is killed",
			spec:        func(log *eventLog) supervisor.ChildSpec { return stubborn("x", log, 5*time.Second, 7*time.Second) },
			wantElapsed: 5 * time.Second, wantReason: actor.Killed,
			wantEvents: []string{"x asked to stop"},
		},
		{
			name:        "infinity waits",
			spec:        func(log *eventLog) supervisor.ChildSpec { return stubborn("x", log, supervisor.Infinity, time.Hour) },
			wantElapsed: time.Hour, wantReason: actor.Shutdown,
			wantEvents: []string{"x asked to stop", "x stops"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				log := &eventLog{}
				sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{tc.spec(log)}})
				log.take()
				x := pidOf(t, n, sup, "x")
				xDown := monitor(t, n, x, "x", nil)

				t0 := time.Now()
				if err := supervisor.TerminateChild(ctx, n, sup, "x"); err != nil {
					t.Fatal(err)
				}
				if elapsed := time.Since(t0); elapsed != tc.wantElapsed {
					t.Errorf("TerminateChild took %v, want %v", elapsed, tc.wantElapsed)
				}
				if d := down(t, xDown); !errors.Is(d.Reason, tc.wantReason) {
					t.Errorf("child exit reason %v, want %v", d.Reason, tc.wantReason)
				}
				log.expect(t, tc.wantEvents...)
				if got := describe(children(t, n, sup)); got != "x:none" {
					t.Errorf("children = %q, want x:none", got)
				}
				// Its exit was not taken for a crash: nothing restarts it.
				time.Sleep(time.Minute)
				log.expect(t)
			})
		})
	}
}

// TestShutdownIsSequential: a supervisor stops its children one after the
// other, each under its own timeout, in reverse start order.
func TestShutdownIsSequential(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{
			stubborn("a", log, 2*time.Second, 0),
			recWorker("b", log),
			stubborn("c", log, 3*time.Second, 0),
		}})
		log.take()
		t0 := time.Now()
		if err := supervisor.Stop(ctx, n, sup); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(t0); elapsed != 5*time.Second {
			t.Errorf("Stop took %v, want 5s (3s for c, then 2s for a)", elapsed)
		}
		log.expect(t, "c asked to stop", "stop b shutdown", "a asked to stop")
	})
}

// TestStartFailureRollback: when a child fails to start, the children
// already started are stopped in reverse order, the rest are never started,
// and the start returns a *StartError naming the child.
func TestStartFailureRollback(t *testing.T) {
	failing := map[string]supervisor.ChildSpec{
		"init error": supervisor.Worker("c", func() actor.GenServer { return &failingInit{} }),
		"start error": {ID: "c", Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			return actor.PID{}, errBoom
		}},
		"start panic": {ID: "c", Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			panic(errBoom)
		}},
		"no pid": {ID: "c", Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			return actor.PID{}, nil
		}},
	}
	for name, c := range failing {
		t.Run(name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				log := &eventLog{}
				spec := supervisor.Spec{Children: []supervisor.ChildSpec{
					recWorker("a", log), recWorker("b", log), c, recWorker("d", log),
				}}
				_, err := supervisor.Start(n, spec)
				var se *supervisor.StartError
				if !errors.As(err, &se) || se.ID != "c" {
					t.Fatalf("Start: %v, want a *StartError for c", err)
				}
				if name != "no pid" && !errors.Is(err, errBoom) {
					t.Errorf("Start: %v does not wrap the child's error", err)
				}
				log.expect(t, "start a", "start b", "stop b shutdown", "stop a shutdown")
				if procs := n.Processes(); len(procs) != 0 {
					t.Errorf("processes left: %v", procs)
				}
			})
		})
	}

	t.Run("StartLink from a process", func(t *testing.T) {
		bubble(t, func(t *testing.T, n *actor.Node) {
			log := &eventLog{}
			parent := spawnProbe(t, n, actor.WithTrapExit())
			var err error
			parent.do(t, func(p *actor.Process) error {
				_, err = supervisor.StartLink(p, supervisor.Spec{Children: []supervisor.ChildSpec{
					recWorker("a", log), failing["start error"],
				}})
				return nil
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("StartLink: %v", err)
			}
			log.expect(t, "start a", "stop a shutdown")
			if len(parent.msgs) != 0 || !alive(n, parent.pid) {
				t.Errorf("the parent was affected: alive %v, messages %d", alive(n, parent.pid), len(parent.msgs))
			}
		})
	})
}

type failingInit struct{}

func (failingInit) Init(p *actor.Process) error { return errBoom }
func (failingInit) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return nil, nil
}

// TestParentExit: when its parent exits, a supervisor stops its children in
// reverse order and exits with the parent's reason. An exit signal from a
// process that is neither its parent nor a child is ignored.
func TestParentExit(t *testing.T) {
	for _, reason := range []error{errBoom, actor.Shutdown} {
		t.Run(reason.Error(), func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				log := &eventLog{}
				parent := spawnProbe(t, n, actor.WithTrapExit())
				var sup actor.PID
				parent.do(t, func(p *actor.Process) error {
					var err error
					sup, err = supervisor.StartLink(p, supervisor.Spec{Children: []supervisor.ChildSpec{
						recWorker("a", log), recWorker("b", log), recWorker("c", log),
					}})
					return err
				})
				monitor(t, n, sup, "sup", log)
				log.take()

				if err := n.Exit(sup, errBoom); err != nil { // from a stranger: trapped and ignored
					t.Fatal(err)
				}
				log.expect(t)
				if !alive(n, sup) {
					t.Fatal("supervisor died of a stranger's exit signal")
				}

				parent.do(t, func(p *actor.Process) error { return reason })
				log.expect(t, "stop c shutdown", "stop b shutdown", "stop a shutdown", "down sup "+reason.Error())
			})
		})
	}
}

// TestNodeStop: stopping the node ends a supervision tree, even one stopping
// a child that ignores shutdown.
func TestNodeStop(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{
			supervisor.ChildSupervisor("inner", supervisor.Spec{Children: []supervisor.ChildSpec{
				stubborn("s", log, time.Hour, 0),
			}}),
			recWorker("w", log),
		}})
		go func() { _ = supervisor.Stop(ctx, n, sup) }() // the tree is stopping when the node stops
		time.Sleep(time.Second)
		if err := n.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if procs := n.Processes(); len(procs) != 0 {
			t.Errorf("processes left: %v", procs)
		}
	})
}

// TestChildSupervisorDefaults: a supervisor child waits for ever by default,
// a worker five seconds.
func TestChildSupervisorDefaults(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{
			supervisor.ChildSupervisor("inner", supervisor.Spec{Strategy: supervisor.SimpleOneForOne,
				Children: []supervisor.ChildSpec{argWorker("conn", log, supervisor.Temporary)}}),
			recWorker("w", log),
		}})
		inner, err := supervisor.GetChildSpec(ctx, n, sup, "inner")
		if err != nil {
			t.Fatal(err)
		}
		if inner.Shutdown != supervisor.Infinity || inner.Type != supervisor.SupervisorChild || inner.Restart != supervisor.Permanent {
			t.Errorf("inner spec %+v", inner)
		}
		w, err := supervisor.GetChildSpec(ctx, n, sup, "w")
		if err != nil {
			t.Fatal(err)
		}
		if w.Shutdown != supervisor.DefaultWorkerShutdown || w.Type != supervisor.WorkerChild {
			t.Errorf("worker spec %+v", w)
		}
	})
}

// TestStuckChild: a child stuck inside a handler is stopped all the same:
// BrutalKill (or the kill after a timeout) declares it dead at once, its
// DOWN arrives, its name is free and a restart can take it, while the stuck
// handler finishes later as a zombie whose sends are dropped.
func TestStuckChild(t *testing.T) {
	for _, shutdown := range []time.Duration{supervisor.BrutalKill, 2 * time.Second} {
		t.Run(fmt.Sprint(shutdown), func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				release, entered := make(chan struct{}), make(chan struct{})
				observer := make(chan any, 16)
				obs, err := n.Spawn(actor.Func(func(_ *actor.Process, msg any) error { observer <- msg; return nil }))
				if err != nil {
					t.Fatal(err)
				}
				c := supervisor.BehaviorWorker("x", func() actor.Behavior {
					return actor.Func(func(p *actor.Process, msg any) error {
						if msg == "block" {
							close(entered)
							<-release
							_ = p.Send(obs, "from the zombie")
						}
						return nil
					})
				}, actor.WithName("x"))
				c.Shutdown = shutdown
				sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{c}})
				x := pidOf(t, n, sup, "x")
				xDown := monitor(t, n, x, "x", nil)
				if err := n.Send(x, "block"); err != nil {
					t.Fatal(err)
				}
				// Stuck inside the handler, not still waiting to take the
				// message: an exit signal that came first would act at once.
				<-entered
				t0 := time.Now()
				if err := supervisor.TerminateChild(ctx, n, sup, "x"); err != nil {
					t.Fatal(err)
				}
				if el := time.Since(t0); el != max(shutdown, 0) {
					t.Errorf("TerminateChild took %v, want %v", el, max(shutdown, 0))
				}
				if d := down(t, xDown); !errors.Is(d.Reason, actor.Killed) {
					t.Errorf("stuck child's reason %v, want killed", d.Reason)
				}
				if _, ok := n.WhereIs("x"); ok {
					t.Error("the stuck child's name is still taken")
				}
				x2, err := supervisor.RestartChild(ctx, n, sup, "x")
				if err != nil || x2 == x {
					t.Fatalf("RestartChild = %v, %v", x2, err)
				}
				close(release)
				synctest.Wait()
				select {
				case m := <-observer:
					t.Fatalf("the zombie's send arrived: %#v", m)
				default:
				}
			})
		})
	}
}
