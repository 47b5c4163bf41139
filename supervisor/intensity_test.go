package supervisor_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// TestIntensityExceeded: the restart one past Intensity (all at the same
// instant) makes the supervisor stop the other children in reverse start
// order and exit with ErrReachedMaxRestartIntensity, which is a shutdown.
func TestIntensityExceeded(t *testing.T) {
	cases := []struct {
		name      string
		intensity int
		allowed   int // restarts that succeed before the supervisor gives up
	}{
		{"no restarts", supervisor.NoRestarts, 0},
		{"default", 0, supervisor.DefaultIntensity},
		{"three", 3, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				log := &eventLog{}
				sup := start(t, n, supervisor.Spec{
					Intensity: tc.intensity,
					Children:  []supervisor.ChildSpec{recWorker("a", log), recWorker("b", log), recWorker("c", log)},
				})
				supDown := monitor(t, n, sup, "sup", log)
				log.take()
				for range tc.allowed {
					exit(t, n, pidOf(t, n, sup, "b"), errBoom)
					log.expect(t, "stop b boom", "start b")
				}
				exit(t, n, pidOf(t, n, sup, "b"), errBoom)
				log.expect(t, "stop b boom", "stop c shutdown", "stop a shutdown",
					"down sup "+supervisor.ErrReachedMaxRestartIntensity.Error())
				reason := down(t, supDown).Reason
				if !errors.Is(reason, supervisor.ErrReachedMaxRestartIntensity) || !errors.Is(reason, actor.Shutdown) {
					t.Errorf("supervisor exit reason %v: want ErrReachedMaxRestartIntensity, a shutdown", reason)
				}
				if got := supervisor.ErrReachedMaxRestartIntensity.Error(); got != "shutdown: reached_max_restart_intensity" {
					t.Errorf("reason text %q", got)
				}
				if procs := n.Processes(); len(procs) != 0 {
					t.Errorf("processes left: %v", procs)
				}
			})
		})
	}
}

// TestIntensityPeriod: restarts further apart than Period do not add up;
// restarts within it do, counting one exactly Period old.
func TestIntensityPeriod(t *testing.T) {
	cases := []struct {
		name      string
		intensity int
		period    time.Duration
		crashAt   []time.Duration // since the start
		diesAt    int             // index of the crash that is one too many, -1 for none
	}{
		{"spread beyond period", 0, 0, every(6*time.Second, 10), -1},
		{"just beyond period", 0, 0, every(5*time.Second+time.Nanosecond, 10), -1},
		{"exactly period apart", 0, 0, every(5*time.Second, 2), 1},
		{"within period", 0, 0, every(time.Second, 2), 1},
		{"sliding window", 2, 10 * time.Second, []time.Duration{0, 6 * time.Second, 12 * time.Second, 14 * time.Second}, 3},
		{"hour period", 2, time.Hour, []time.Duration{0, 50 * time.Minute, 70 * time.Minute, 100 * time.Minute}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				log := &eventLog{}
				sup := start(t, n, supervisor.Spec{
					Intensity: tc.intensity,
					Period:    tc.period,
					Children:  []supervisor.ChildSpec{recWorker("w", log)},
				})
				supDown := monitor(t, n, sup, "sup", log)
				log.take()
				t0 := time.Now()
				for i, at := range tc.crashAt {
					time.Sleep(t0.Add(at).Sub(time.Now())) // fake time: the bubble's clock
					exit(t, n, pidOf(t, n, sup, "w"), errBoom)
					if i == tc.diesAt {
						log.expect(t, "stop w boom", "down sup "+supervisor.ErrReachedMaxRestartIntensity.Error())
						down(t, supDown)
						return
					}
					log.expect(t, "stop w boom", "start w")
				}
				if !alive(n, sup) {
					t.Fatal("supervisor died")
				}
			})
		})
	}
}

func every(gap time.Duration, n int) []time.Duration {
	at := make([]time.Duration, n)
	for i := range at {
		at[i] = time.Duration(i) * gap
	}
	return at
}

// gatedStart is a child start that fails when told to. A failing attempt
// may be held until the test releases it, so that the test can queue calls
// to the supervisor while the supervisor is busy with the restart.
type gatedStart struct {
	id       string
	log      *eventLog
	attempts atomic.Int32
	mu       sync.Mutex
	fail     func(attempt int32) bool
	hold     chan struct{} // failing attempts wait for it to close, if not nil
}

func (g *gatedStart) spec() supervisor.ChildSpec {
	return supervisor.ChildSpec{
		ID: g.id,
		Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			n := g.attempts.Add(1)
			if g.fail(n) {
				g.log.add("start %s failed", g.id)
				if g.hold != nil {
					<-g.hold
				}
				return actor.PID{}, errBoom
			}
			return p.Spawn(actor.Server(&worker{id: g.id, log: g.log}), actor.WithLink(), actor.WithTrapExit())
		},
	}
}

// TestFailedRestartIsRetried: when a restart's start fails, the child is
// reported Restarting, calls already queued are served, and the supervisor
// retries through a message to itself, the retry counting as a restart. For
// OneForAll and RestForOne the retry restarts the group again from the
// failed child, as OTP does.
func TestFailedRestartIsRetried(t *testing.T) {
	cases := []struct {
		strategy    supervisor.Strategy
		pending     string   // children while the retry is pending
		wantEvents  []string // after the crash of a
		wantRetries []string // events of the retry
	}{
		{supervisor.OneForOne, "a:run b:run c:run", nil, nil},
		{
			supervisor.OneForAll, "a:run b:restarting c:none",
			[]string{"stop a boom", "stop c shutdown", "stop b shutdown", "start a", "start b failed"},
			[]string{"stop a shutdown", "start a", "start b", "start c"},
		},
		{
			supervisor.RestForOne, "a:run b:restarting c:none",
			[]string{"stop a boom", "stop c shutdown", "stop b shutdown", "start a", "start b failed"},
			[]string{"start b", "start c"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.strategy.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				log := &eventLog{}
				hold := make(chan struct{})
				b := &gatedStart{id: "b", log: log, hold: hold, fail: func(n int32) bool { return n == 2 }}
				sup := start(t, n, supervisor.Spec{
					Strategy:  tc.strategy,
					Intensity: 5,
					Children:  []supervisor.ChildSpec{recWorker("a", log), b.spec(), recWorker("c", log)},
				})
				log.take()
				crash, wantPending, wantEvents, wantRetries := "a", tc.pending, tc.wantEvents, tc.wantRetries
				if tc.strategy == supervisor.OneForOne {
					crash, wantPending = "b", "a:run b:restarting c:run"
					wantEvents = []string{"stop b boom", "start b failed"}
					wantRetries = []string{"start b"}
				}
				exit(t, n, pidOf(t, n, sup, crash), errBoom) // the supervisor is now held in b's failing start

				var pending []supervisor.ChildInfo
				var counts supervisor.Counts
				var restartErr, deleteErr error
				var wg sync.WaitGroup
				wg.Go(func() { pending, _ = supervisor.WhichChildren(ctx, n, sup) })
				wg.Go(func() { counts, _ = supervisor.CountChildren(ctx, n, sup) })
				wg.Go(func() { _, restartErr = supervisor.RestartChild(ctx, n, sup, "b") })
				wg.Go(func() { deleteErr = supervisor.DeleteChild(ctx, n, sup, "b") })
				synctest.Wait() // the calls are queued
				close(hold)
				wg.Wait()
				log.expect(t, append(wantEvents, wantRetries...)...)

				if got := describe(pending); got != wantPending {
					t.Errorf("children while pending = %q, want %q", got, wantPending)
				}
				if counts.Active != 2 && tc.strategy == supervisor.OneForOne || counts.Active != 1 && tc.strategy != supervisor.OneForOne {
					t.Errorf("counts while pending: %+v", counts)
				}
				if !errors.Is(restartErr, supervisor.ErrRestarting) || !errors.Is(deleteErr, supervisor.ErrRestarting) {
					t.Errorf("RestartChild: %v, DeleteChild: %v; want ErrRestarting", restartErr, deleteErr)
				}
				if got := describe(children(t, n, sup)); got != "a:run b:run c:run" {
					t.Errorf("children after retry = %q", got)
				}
				if got := b.attempts.Load(); got != 3 {
					t.Errorf("b started %d times, want 3", got)
				}
			})
		})
	}
}

// TestFailingRestartExhaustsIntensity: a child that cannot be restarted is
// retried until the retries exceed the intensity; then the supervisor gives
// up like for any other restart.
func TestFailingRestartExhaustsIntensity(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		b := &gatedStart{id: "b", log: log, fail: func(n int32) bool { return n > 1 }}
		sup := start(t, n, supervisor.Spec{
			Intensity: 3,
			Children:  []supervisor.ChildSpec{recWorker("a", log), b.spec(), recWorker("c", log)},
		})
		supDown := monitor(t, n, sup, "sup", log)
		log.take()
		exit(t, n, pidOf(t, n, sup, "b"), errBoom)
		log.expect(t, "stop b boom", "start b failed", "start b failed", "start b failed",
			"stop c shutdown", "stop a shutdown", "down sup "+supervisor.ErrReachedMaxRestartIntensity.Error())
		if d := down(t, supDown); !errors.Is(d.Reason, supervisor.ErrReachedMaxRestartIntensity) {
			t.Errorf("supervisor exit reason %v", d.Reason)
		}
	})
}

// TestTerminateCancelsPendingRestart: terminating a child whose restart is
// pending cancels the retry.
func TestTerminateCancelsPendingRestart(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		hold := make(chan struct{})
		b := &gatedStart{id: "b", log: log, hold: hold, fail: func(n int32) bool { return n == 2 }}
		sup := start(t, n, supervisor.Spec{Intensity: 5, Children: []supervisor.ChildSpec{b.spec()}})
		log.take()
		exit(t, n, pidOf(t, n, sup, "b"), errBoom)
		done := make(chan error, 1)
		go func() { done <- supervisor.TerminateChild(ctx, n, sup, "b") }()
		synctest.Wait()
		close(hold)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		log.expect(t, "stop b boom", "start b failed")
		if got := describe(children(t, n, sup)); got != "b:none" {
			t.Errorf("children = %q, want b:none", got)
		}
		if got := b.attempts.Load(); got != 2 {
			t.Errorf("b started %d times, want 2: the retry was not cancelled", got)
		}
		if _, err := supervisor.RestartChild(ctx, n, sup, "b"); err != nil {
			t.Fatal(err)
		}
		log.expect(t, "start b")
	})
}

// TestSimpleOneForOneFailedRestart: a dynamic child whose restart fails is
// listed as restarting (no ID, no PID) and retried with its arguments.
func TestSimpleOneForOneFailedRestart(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		hold := make(chan struct{})
		var attempts atomic.Int32
		sup := start(t, n, supervisor.Spec{
			Strategy:  supervisor.SimpleOneForOne,
			Intensity: 5,
			Children: []supervisor.ChildSpec{{
				ID: "conn",
				Start: func(p *actor.Process, args ...any) (actor.PID, error) {
					if attempts.Add(1) == 3 {
						<-hold
						return actor.PID{}, errBoom
					}
					return p.Spawn(actor.Server(&worker{id: "conn", log: log, args: args}), actor.WithLink(), actor.WithTrapExit())
				},
			}},
		})
		p1, _ := supervisor.StartChildArgs(ctx, n, sup, 1)
		p2, _ := supervisor.StartChildArgs(ctx, n, sup, 2)
		exit(t, n, p1, errBoom)
		var pending []supervisor.ChildInfo
		var counts supervisor.Counts
		var wg sync.WaitGroup
		wg.Go(func() { pending, _ = supervisor.WhichChildren(ctx, n, sup) })
		wg.Go(func() { counts, _ = supervisor.CountChildren(ctx, n, sup) })
		synctest.Wait()
		close(hold)
		wg.Wait()
		if len(pending) != 2 || !pending[0].Restarting || !pending[0].PID.IsZero() || pending[1].PID != p2 {
			t.Errorf("children while pending: %+v", pending)
		}
		if counts != (supervisor.Counts{Specs: 1, Active: 1, Workers: 2}) {
			t.Errorf("counts while pending: %+v", counts)
		}
		log.expect(t, "start conn [1]", "start conn [2]", "stop conn boom", "start conn [1]")
		now := children(t, n, sup)
		if len(now) != 2 || now[0].Restarting || now[0].PID.IsZero() || now[0].PID == p1 || now[1].PID != p2 {
			t.Errorf("children after retry: %+v", now)
		}
	})
}

// TestNestedEscalation: an inner supervisor that exceeds its intensity exits
// with a shutdown; its supervisor restarts it if it is Permanent (counting a
// restart of its own, so it may give up in turn), and not if it is
// Transient.
func TestNestedEscalation(t *testing.T) {
	innerSpec := func(log *eventLog) supervisor.Spec {
		return supervisor.Spec{Children: []supervisor.ChildSpec{recWorker("w", log, actor.WithName("w"))}}
	}
	crashW := func(t *testing.T, n *actor.Node) {
		t.Helper()
		pid, ok := n.WhereIs("w")
		if !ok {
			t.Fatal("w is not registered")
		}
		exit(t, n, pid, errBoom)
	}

	t.Run("permanent inner is restarted until the outer gives up", func(t *testing.T) {
		bubble(t, func(t *testing.T, n *actor.Node) {
			log := &eventLog{}
			outer := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{
				recWorker("x", log),
				supervisor.ChildSupervisor("inner", innerSpec(log)),
			}})
			outerDown := monitor(t, n, outer, "outer", log)
			log.expect(t, "start x", "start w")
			inner1 := pidOf(t, n, outer, "inner")
			innerDown := monitor(t, n, inner1, "inner", nil) // its DOWN races the outer's restart

			crashW(t, n)
			log.expect(t, "stop w boom", "start w")
			crashW(t, n) // inner gives up; outer restarts it
			log.expect(t, "stop w boom", "start w")
			if d := down(t, innerDown); !errors.Is(d.Reason, supervisor.ErrReachedMaxRestartIntensity) {
				t.Errorf("inner exit reason %v", d.Reason)
			}
			if inner2 := pidOf(t, n, outer, "inner"); inner2 == inner1 || !alive(n, inner2) {
				t.Fatalf("inner not restarted: %v then %v", inner1, inner2)
			}

			crashW(t, n)
			log.expect(t, "stop w boom", "start w")
			crashW(t, n) // the new inner gives up, and the outer's second restart is one too many
			log.expect(t, "stop w boom", "stop x shutdown", "down outer "+supervisor.ErrReachedMaxRestartIntensity.Error())
			down(t, outerDown)
			if procs := n.Processes(); len(procs) != 0 {
				t.Errorf("processes left: %v", procs)
			}
		})
	})

	t.Run("transient inner is not restarted", func(t *testing.T) {
		bubble(t, func(t *testing.T, n *actor.Node) {
			log := &eventLog{}
			inner := supervisor.ChildSupervisor("inner", innerSpec(log))
			inner.Restart = supervisor.Transient
			outer := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{recWorker("x", log), inner}})
			log.take()
			crashW(t, n)
			crashW(t, n)
			log.expect(t, "stop w boom", "start w", "stop w boom")
			if got := describe(children(t, n, outer)); got != "x:run inner:none" {
				t.Errorf("outer's children = %q", got)
			}
		})
	})

	t.Run("one_for_all outer restarts the siblings of a failed inner", func(t *testing.T) {
		bubble(t, func(t *testing.T, n *actor.Node) {
			log := &eventLog{}
			outer := start(t, n, supervisor.Spec{
				Strategy:  supervisor.OneForAll,
				Intensity: 5,
				Children: []supervisor.ChildSpec{
					supervisor.ChildSupervisor("inner", innerSpec(log)),
					recWorker("x", log),
				},
			})
			log.take()
			crashW(t, n)
			crashW(t, n)
			log.expect(t, "stop w boom", "start w", "stop w boom", "stop x shutdown", "start w", "start x")
			if got := describe(children(t, n, outer)); got != "inner:run x:run" {
				t.Errorf("outer's children = %q", got)
			}
		})
	})
}

func TestReasonIsShutdown(t *testing.T) {
	if !actor.IsNormalExit(supervisor.ErrReachedMaxRestartIntensity) {
		t.Error("ErrReachedMaxRestartIntensity is not a normal exit for actor.IsNormalExit")
	}
	wrapped := fmt.Errorf("inner: %w", supervisor.ErrReachedMaxRestartIntensity)
	if !errors.Is(wrapped, actor.Shutdown) || !errors.Is(wrapped, supervisor.ErrReachedMaxRestartIntensity) {
		t.Error("wrapping loses the meaning")
	}
}
