package supervisor_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// TestStrategiesAndRestartTypes is supervisor_SUITE's strategy × restart type
// matrix: children a, b, c (a and c permanent); b, of the restart type under
// test, exits with each kind of reason, and the test checks who is stopped
// and started, in which order, and what the supervisor keeps.
func TestStrategiesAndRestartTypes(t *testing.T) {
	// What a restart of b looks like after b's own "stop b <reason>".
	restartEvents := map[supervisor.Strategy][]string{
		supervisor.OneForOne:  {"start b"},
		supervisor.OneForAll:  {"stop c shutdown", "stop a shutdown", "start a", "start b", "start c"},
		supervisor.RestForOne: {"stop c shutdown", "start b", "start c"},
	}
	// Which siblings get new PIDs on a restart.
	restartsSiblings := map[supervisor.Strategy][]string{
		supervisor.OneForOne:  nil,
		supervisor.OneForAll:  {"a", "c"},
		supervisor.RestForOne: {"c"},
	}
	reasons := []struct {
		name   string
		reason error
		normal bool
	}{
		{"normal", actor.Normal, true},
		{"shutdown", actor.Shutdown, true},
		{"wrapped shutdown", fmt.Errorf("%w: going away", actor.Shutdown), true},
		{"abnormal", errBoom, false},
	}
	restarts := []supervisor.Restart{supervisor.Permanent, supervisor.Transient, supervisor.Temporary}

	for _, strategy := range []supervisor.Strategy{supervisor.OneForOne, supervisor.OneForAll, supervisor.RestForOne} {
		for _, restart := range restarts {
			for _, r := range reasons {
				restarted := restart == supervisor.Permanent || (restart == supervisor.Transient && !r.normal)
				name := fmt.Sprintf("%v/%v/%s", strategy, restart, r.name)
				t.Run(name, func(t *testing.T) {
					bubble(t, func(t *testing.T, n *actor.Node) {
						log := &eventLog{}
						sup := start(t, n, supervisor.Spec{
							Strategy: strategy,
							Children: []supervisor.ChildSpec{
								recWorker("a", log),
								withRestart(recWorker("b", log), restart),
								recWorker("c", log),
							},
						})
						log.expect(t, "start a", "start b", "start c")
						before := pids(t, n, sup)

						exit(t, n, before["b"], r.reason)

						want := []string{"stop b " + r.reason.Error()}
						wantChildren := "a:run b:run c:run"
						if restarted {
							want = append(want, restartEvents[strategy]...)
						} else if restart == supervisor.Temporary {
							wantChildren = "a:run c:run"
						} else {
							wantChildren = "a:run b:none c:run"
						}
						log.expect(t, want...)
						after := children(t, n, sup)
						if got := describe(after); got != wantChildren {
							t.Fatalf("children = %q, want %q", got, wantChildren)
						}
						now := pids(t, n, sup)
						if restarted && (now["b"] == before["b"] || alive(n, before["b"])) {
							t.Errorf("b not restarted with a new PID: before %v, now %v", before["b"], now["b"])
						}
						for _, id := range []string{"a", "c"} {
							changed := now[id] != before[id]
							wantChanged := restarted && slices.Contains(restartsSiblings[strategy], id)
							if changed != wantChanged {
								t.Errorf("%s: PID changed = %v, want %v", id, changed, wantChanged)
							}
							if !alive(n, now[id]) {
								t.Errorf("%s (%v) is not alive", id, now[id])
							}
						}
					})
				})
			}
		}
	}
}

// TestRestartStrategiesDropTemporarySiblings: when OneForAll or RestForOne
// restart children, a temporary child among those stopped is stopped for
// good and forgotten, as in OTP.
func TestRestartStrategiesDropTemporarySiblings(t *testing.T) {
	cases := []struct {
		strategy     supervisor.Strategy
		crash        string
		wantEvents   []string
		wantChildren string
	}{
		{supervisor.OneForAll, "a", []string{"stop a boom", "stop c shutdown", "stop t shutdown", "start a", "start c"}, "a:run c:run"},
		{supervisor.RestForOne, "a", []string{"stop a boom", "stop c shutdown", "stop t shutdown", "start a", "start c"}, "a:run c:run"},
		// A RestForOne restart after t leaves t alone.
		{supervisor.RestForOne, "c", []string{"stop c boom", "start c"}, "a:run t:run c:run"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v/crash %s", tc.strategy, tc.crash), func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				log := &eventLog{}
				sup := start(t, n, supervisor.Spec{
					Strategy: tc.strategy,
					Children: []supervisor.ChildSpec{
						recWorker("a", log),
						withRestart(recWorker("t", log), supervisor.Temporary),
						recWorker("c", log),
					},
				})
				log.take()
				exit(t, n, pidOf(t, n, sup, tc.crash), errBoom)
				log.expect(t, tc.wantEvents...)
				if got := describe(children(t, n, sup)); got != tc.wantChildren {
					t.Errorf("children = %q, want %q", got, tc.wantChildren)
				}
			})
		})
	}
}

// TestSimpleOneForOneRestartTypes: a dynamic child is restarted with the
// arguments it was started with, and according to the template's restart
// type; the other dynamic children are left alone.
func TestSimpleOneForOneRestartTypes(t *testing.T) {
	reasons := []struct {
		reason error
		normal bool
	}{{actor.Normal, true}, {actor.Shutdown, true}, {errBoom, false}}
	for _, restart := range []supervisor.Restart{supervisor.Permanent, supervisor.Transient, supervisor.Temporary} {
		for _, r := range reasons {
			restarted := restart == supervisor.Permanent || (restart == supervisor.Transient && !r.normal)
			t.Run(fmt.Sprintf("%v/%v", restart, r.reason), func(t *testing.T) {
				bubble(t, func(t *testing.T, n *actor.Node) {
					log := &eventLog{}
					sup := start(t, n, supervisor.Spec{
						Strategy: supervisor.SimpleOneForOne,
						Children: []supervisor.ChildSpec{argWorker("conn", log, restart)},
					})
					var started []actor.PID
					for _, port := range []int{1, 2, 3} {
						pid, err := supervisor.StartChildArgs(ctx, n, sup, "port", port)
						if err != nil {
							t.Fatal(err)
						}
						started = append(started, pid)
					}
					log.expect(t, "start conn [port 1]", "start conn [port 2]", "start conn [port 3]")

					exit(t, n, started[1], r.reason)

					want := []string{"stop conn " + r.reason.Error()}
					if restarted {
						want = append(want, "start conn [port 2]")
					}
					log.expect(t, want...)
					infos := children(t, n, sup)
					wantLen := 2
					if restarted {
						wantLen = 3
					}
					if len(infos) != wantLen {
						t.Fatalf("%d children, want %d: %+v", len(infos), wantLen, infos)
					}
					if infos[0].PID != started[0] || infos[len(infos)-1].PID != started[2] {
						t.Errorf("siblings changed: %+v, started %v", infos, started)
					}
					if restarted && (infos[1].PID == started[1] || infos[1].PID.IsZero()) {
						t.Errorf("child 2 not restarted with a new PID: %+v", infos[1])
					}
					for _, c := range infos {
						if c.ID != "" || c.Restart != restart || c.Type != supervisor.WorkerChild {
							t.Errorf("child info %+v", c)
						}
					}
				})
			})
		}
	}
}

// argWorker is a SimpleOneForOne template of recording workers that take
// their start arguments. A first argument "fail" or "ignore" makes the start
// fail or be ignored.
func argWorker(id string, log *eventLog, restart supervisor.Restart) supervisor.ChildSpec {
	return supervisor.ChildSpec{
		ID:      id,
		Restart: restart,
		Start: func(p *actor.Process, args ...any) (actor.PID, error) {
			if len(args) > 0 && args[0] == "fail" {
				return actor.PID{}, errBoom
			}
			if len(args) > 0 && args[0] == "ignore" {
				return actor.PID{}, actor.Ignore
			}
			return p.Spawn(actor.Server(&worker{id: id, log: log, args: args}), actor.WithLink(), actor.WithTrapExit())
		},
	}
}
