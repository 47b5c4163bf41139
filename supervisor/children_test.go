package supervisor_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// ignoring is a gen_server whose Init returns actor.Ignore.
type ignoring struct{}

func (ignoring) Init(p *actor.Process) error { return actor.Ignore }
func (ignoring) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return nil, nil
}

// TestIgnore: a start that returns actor.Ignore leaves the child's spec with
// no process, except for temporary and dynamic children, which are not kept.
func TestIgnore(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		ignored := supervisor.Worker("ig", func() actor.GenServer { return ignoring{} })
		sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{
			recWorker("a", log),
			ignored,
			withRestart(supervisor.Worker("tig", func() actor.GenServer { return ignoring{} }), supervisor.Temporary),
		}})
		if got := describe(children(t, n, sup)); got != "a:run ig:none" {
			t.Fatalf("children = %q, want a:run ig:none", got)
		}
		if counts, _ := supervisor.CountChildren(ctx, n, sup); counts != (supervisor.Counts{Specs: 2, Active: 1, Workers: 2}) {
			t.Errorf("counts %+v", counts)
		}
		if pid, err := supervisor.RestartChild(ctx, n, sup, "ig"); err != nil || !pid.IsZero() {
			t.Errorf("RestartChild of an ignoring child: %v, %v; want a zero PID", pid, err)
		}
		if pid, err := supervisor.StartChild(ctx, n, sup, supervisor.Worker("ig2", func() actor.GenServer { return ignoring{} })); err != nil || !pid.IsZero() {
			t.Errorf("StartChild of an ignoring child: %v, %v", pid, err)
		}
		if pid, err := supervisor.StartChild(ctx, n, sup, withRestart(supervisor.Worker("tig2", func() actor.GenServer { return ignoring{} }), supervisor.Temporary)); err != nil || !pid.IsZero() {
			t.Errorf("StartChild of an ignoring temporary child: %v, %v", pid, err)
		}
		if got := describe(children(t, n, sup)); got != "a:run ig:none ig2:none" {
			t.Fatalf("children = %q", got)
		}

		simple := start(t, n, supervisor.Spec{
			Strategy: supervisor.SimpleOneForOne,
			Children: []supervisor.ChildSpec{argWorker("conn", log, supervisor.Permanent)},
		})
		if pid, err := supervisor.StartChildArgs(ctx, n, simple, "ignore"); err != nil || !pid.IsZero() {
			t.Errorf("StartChildArgs ignored: %v, %v", pid, err)
		}
		if infos := children(t, n, simple); len(infos) != 0 {
			t.Errorf("an ignored dynamic child is kept: %+v", infos)
		}
	})
}

// TestIgnoreOnRestart: a child whose restart is ignored stays not running,
// and is not retried.
func TestIgnoreOnRestart(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		var starts atomic.Int32
		sup := start(t, n, supervisor.Spec{Intensity: 10, Children: []supervisor.ChildSpec{{
			ID: "w",
			Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
				if starts.Add(1) > 1 {
					return actor.PID{}, actor.Ignore
				}
				return p.Spawn(actor.Server(&worker{id: "w", log: log}), actor.WithLink())
			},
		}}})
		exit(t, n, pidOf(t, n, sup, "w"), errBoom)
		if got := describe(children(t, n, sup)); got != "w:none" {
			t.Errorf("children = %q, want w:none", got)
		}
		if got := starts.Load(); got != 2 {
			t.Errorf("%d starts, want 2", got)
		}
	})
}

// TestNamesAreReregistered: a restarted child takes its registered name
// again, whatever the strategy that restarted it.
func TestNamesAreReregistered(t *testing.T) {
	for _, strategy := range []supervisor.Strategy{supervisor.OneForOne, supervisor.OneForAll, supervisor.RestForOne} {
		t.Run(strategy.String(), func(t *testing.T) {
			bubble(t, func(t *testing.T, n *actor.Node) {
				log := &eventLog{}
				sup := start(t, n, supervisor.Spec{Strategy: strategy, Intensity: 5, Children: []supervisor.ChildSpec{
					recWorker("db", log, actor.WithName("db")),
					recWorker("api", log, actor.WithName("api")),
				}})
				for range 3 {
					before := pids(t, n, sup)
					for _, name := range []string{"db", "api"} {
						if pid, ok := n.WhereIs(name); !ok || pid != before[name] {
							t.Fatalf("%s is registered to %v, want %v", name, pid, before[name])
						}
					}
					exit(t, n, before["db"], errBoom)
					db, ok := n.WhereIs("db")
					if !ok || db == before["db"] || db != pidOf(t, n, sup, "db") {
						t.Fatalf("db is registered to %v (%v), was %v", db, ok, before["db"])
					}
					if _, err := n.Call(ctx, db, "ping"); err != nil {
						t.Fatalf("call db by its new PID: %v", err)
					}
				}
			})
		})
	}
}

// TestValidate: invalid specs are refused with ErrInvalidSpec before any
// process is started; valid ones pass.
func TestValidate(t *testing.T) {
	start := func(*actor.Process, ...any) (actor.PID, error) { return actor.PID{}, actor.Ignore }
	ok := supervisor.ChildSpec{ID: "ok", Start: start}
	cases := []struct {
		name  string
		spec  supervisor.Spec
		valid bool
	}{
		{"zero spec", supervisor.Spec{}, true},
		{"defaults", supervisor.Spec{Children: []supervisor.ChildSpec{ok}}, true},
		{"no restarts", supervisor.Spec{Intensity: supervisor.NoRestarts}, true},
		{"brutal kill and infinity", supervisor.Spec{Children: []supervisor.ChildSpec{
			{ID: "a", Start: start, Shutdown: supervisor.BrutalKill},
			{ID: "b", Start: start, Shutdown: supervisor.Infinity},
		}}, true},
		{"simple with its template", supervisor.Spec{Strategy: supervisor.SimpleOneForOne, Children: []supervisor.ChildSpec{ok}}, true},
		{"unknown strategy", supervisor.Spec{Strategy: 9}, false},
		{"negative intensity", supervisor.Spec{Intensity: -2}, false},
		{"negative period", supervisor.Spec{Period: -time.Second}, false},
		{"simple without a template", supervisor.Spec{Strategy: supervisor.SimpleOneForOne}, false},
		{"simple with two templates", supervisor.Spec{Strategy: supervisor.SimpleOneForOne, Children: []supervisor.ChildSpec{ok, {ID: "b", Start: start}}}, false},
		{"duplicate ids", supervisor.Spec{Children: []supervisor.ChildSpec{ok, ok}}, false},
		{"empty id", supervisor.Spec{Children: []supervisor.ChildSpec{{Start: start}}}, false},
		{"nil start", supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a"}}}, false},
		{"unknown restart", supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a", Start: start, Restart: 7}}}, false},
		{"unknown type", supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a", Start: start, Type: 7}}}, false},
		{"negative shutdown", supervisor.Spec{Children: []supervisor.ChildSpec{{ID: "a", Start: start, Shutdown: -time.Second}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if tc.valid != (err == nil) || (err != nil && !errors.Is(err, supervisor.ErrInvalidSpec)) {
				t.Fatalf("Validate: %v, want valid=%v", err, tc.valid)
			}
			bubble(t, func(t *testing.T, n *actor.Node) {
				sup, err := supervisor.Start(n, tc.spec)
				if tc.valid != (err == nil) || (err != nil && !errors.Is(err, supervisor.ErrInvalidSpec)) {
					t.Fatalf("Start: %v, want valid=%v", err, tc.valid)
				}
				if !tc.valid && (len(n.Processes()) != 0 || !sup.IsZero()) {
					t.Errorf("an invalid spec started %v", n.Processes())
				}
			})
		})
	}

	if _, err := supervisor.Start(nil, supervisor.Spec{}); err == nil {
		t.Error("Start with a nil node succeeded")
	}
	if _, err := supervisor.StartLink(nil, supervisor.Spec{}); err == nil {
		t.Error("StartLink with a nil process succeeded")
	}
}

// TestNames: the enums print as OTP's atoms.
func TestNames(t *testing.T) {
	got := []string{
		supervisor.OneForOne.String(), supervisor.OneForAll.String(), supervisor.RestForOne.String(), supervisor.SimpleOneForOne.String(),
		supervisor.Permanent.String(), supervisor.Transient.String(), supervisor.Temporary.String(),
		supervisor.WorkerChild.String(), supervisor.SupervisorChild.String(),
	}
	want := []string{"one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one",
		"permanent", "transient", "temporary", "worker", "supervisor"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%q, want %q", got[i], want[i])
		}
	}
}
