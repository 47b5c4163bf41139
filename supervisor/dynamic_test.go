package supervisor_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// TestDynamicChildren walks a OneForOne supervisor through the dynamic API
// and every error it returns.
func TestDynamicChildren(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{recWorker("a", log)}})
		log.take()
		expectChildren := func(want string) {
			t.Helper()
			if got := describe(children(t, n, sup)); got != want {
				t.Fatalf("children = %q, want %q", got, want)
			}
		}
		is := func(what string, err, want error) {
			t.Helper()
			if !errors.Is(err, want) {
				t.Fatalf("%s: %v, want %v", what, err, want)
			}
		}

		b1, err := supervisor.StartChild(ctx, n, sup, recWorker("b", log))
		if err != nil || b1.IsZero() || !alive(n, b1) {
			t.Fatalf("StartChild b: %v, %v", b1, err)
		}
		log.expect(t, "start b")
		expectChildren("a:run b:run")

		_, err = supervisor.StartChild(ctx, n, sup, recWorker("b", log))
		var started *supervisor.AlreadyStartedError
		if !errors.As(err, &started) || started.PID != b1 || !errors.Is(err, supervisor.ErrAlreadyStarted) {
			t.Fatalf("StartChild b again: %v, want already started with %v", err, b1)
		}
		_, err = supervisor.RestartChild(ctx, n, sup, "b")
		is("RestartChild of a running child", err, supervisor.ErrRunning)
		is("DeleteChild of a running child", supervisor.DeleteChild(ctx, n, sup, "b"), supervisor.ErrRunning)

		is("TerminateChild b", supervisor.TerminateChild(ctx, n, sup, "b"), nil)
		log.expect(t, "stop b shutdown")
		expectChildren("a:run b:none")
		if alive(n, b1) {
			t.Fatal("b still alive")
		}
		is("TerminateChild b again", supervisor.TerminateChild(ctx, n, sup, "b"), nil)
		_, err = supervisor.StartChild(ctx, n, sup, recWorker("b", log))
		is("StartChild of a terminated child", err, supervisor.ErrAlreadyPresent)

		b2, err := supervisor.RestartChild(ctx, n, sup, "b")
		if err != nil || b2.IsZero() || b2 == b1 {
			t.Fatalf("RestartChild b: %v, %v", b2, err)
		}
		log.expect(t, "start b")
		expectChildren("a:run b:run")

		is("TerminateChildPID b", supervisor.TerminateChildPID(ctx, n, sup, b2), nil)
		log.expect(t, "stop b shutdown")
		is("DeleteChild b", supervisor.DeleteChild(ctx, n, sup, "b"), nil)
		expectChildren("a:run")
		is("DeleteChild b again", supervisor.DeleteChild(ctx, n, sup, "b"), supervisor.ErrNotFound)
		is("TerminateChild unknown", supervisor.TerminateChild(ctx, n, sup, "b"), supervisor.ErrNotFound)
		_, err = supervisor.RestartChild(ctx, n, sup, "b")
		is("RestartChild unknown", err, supervisor.ErrNotFound)
		_, err = supervisor.GetChildSpec(ctx, n, sup, "b")
		is("GetChildSpec unknown", err, supervisor.ErrNotFound)
		is("TerminateChildPID of a stranger", supervisor.TerminateChildPID(ctx, n, sup, sup), supervisor.ErrNotFound)

		_, err = supervisor.StartChild(ctx, n, sup, supervisor.ChildSpec{ID: "bad"})
		is("StartChild without Start", err, supervisor.ErrInvalidSpec)
		_, err = supervisor.StartChild(ctx, n, sup, supervisor.ChildSpec{ID: "f", Start: func(*actor.Process, ...any) (actor.PID, error) {
			return actor.PID{}, errBoom
		}})
		var se *supervisor.StartError
		if !errors.As(err, &se) || se.ID != "f" || !errors.Is(err, errBoom) {
			t.Fatalf("StartChild failing: %v", err)
		}
		_, err = supervisor.StartChildArgs(ctx, n, sup, 1)
		is("StartChildArgs", err, supervisor.ErrNotSimpleOneForOne)
		expectChildren("a:run")

		// A temporary child is forgotten once terminated.
		if _, err := supervisor.StartChild(ctx, n, sup, withRestart(recWorker("t", log), supervisor.Temporary)); err != nil {
			t.Fatal(err)
		}
		expectChildren("a:run t:run")
		is("TerminateChild t", supervisor.TerminateChild(ctx, n, sup, "t"), nil)
		expectChildren("a:run")
		log.expect(t, "start t", "stop t shutdown")

		spec, err := supervisor.GetChildSpec(ctx, n, sup, "a")
		if err != nil || spec.ID != "a" || spec.Shutdown != supervisor.DefaultWorkerShutdown || spec.Start == nil {
			t.Fatalf("GetChildSpec a: %+v, %v", spec, err)
		}
		if err := supervisor.Stop(ctx, n, sup); err != nil {
			t.Fatal(err)
		}
		log.expect(t, "stop a shutdown")
		_, err = supervisor.WhichChildren(ctx, n, sup)
		is("WhichChildren of a stopped supervisor", err, actor.ErrNoProc)
	})
}

// TestCallFromProcess: the API works from inside a process, with its
// *actor.Process as the Caller.
func TestCallFromProcess(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{})
		pr := spawnProbe(t, n)
		var pid actor.PID
		var counts supervisor.Counts
		var err error
		pr.do(t, func(p *actor.Process) error {
			if pid, err = supervisor.StartChild(ctx, p, sup, recWorker("w", log)); err != nil {
				return nil
			}
			counts, err = supervisor.CountChildren(ctx, p, sup)
			return nil
		})
		if err != nil || pid.IsZero() {
			t.Fatalf("from a process: %v, %v", pid, err)
		}
		if counts != (supervisor.Counts{Specs: 1, Active: 1, Workers: 1}) {
			t.Errorf("counts %+v", counts)
		}
	})
}

// TestCountChildren counts specs, live processes and types.
func TestCountChildren(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{Children: []supervisor.ChildSpec{
			recWorker("a", log),
			supervisor.ChildSupervisor("inner", supervisor.Spec{}),
			withRestart(recWorker("b", log), supervisor.Transient),
		}})
		exit(t, n, pidOf(t, n, sup, "b"), actor.Normal)
		counts, err := supervisor.CountChildren(ctx, n, sup)
		if err != nil {
			t.Fatal(err)
		}
		if want := (supervisor.Counts{Specs: 3, Active: 2, Supervisors: 1, Workers: 2}); counts != want {
			t.Errorf("counts %+v, want %+v", counts, want)
		}
	})
}

// TestSimpleOneForOneAPI: what a SimpleOneForOne supervisor accepts and
// refuses.
func TestSimpleOneForOneAPI(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{
			Strategy: supervisor.SimpleOneForOne,
			Children: []supervisor.ChildSpec{argWorker("conn", log, supervisor.Permanent)},
		})
		if infos := children(t, n, sup); len(infos) != 0 {
			t.Fatalf("a new simple supervisor has children: %+v", infos)
		}
		refused := map[string]error{}
		_, refused["StartChild"] = supervisor.StartChild(ctx, n, sup, recWorker("x", log))
		refused["TerminateChild"] = supervisor.TerminateChild(ctx, n, sup, "conn")
		_, refused["RestartChild"] = supervisor.RestartChild(ctx, n, sup, "conn")
		refused["DeleteChild"] = supervisor.DeleteChild(ctx, n, sup, "conn")
		for op, err := range refused {
			if !errors.Is(err, supervisor.ErrSimpleOneForOne) {
				t.Errorf("%s: %v, want ErrSimpleOneForOne", op, err)
			}
		}

		p1, err := supervisor.StartChildArgs(ctx, n, sup, "one")
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := supervisor.StartChildArgs(ctx, n, sup, "two")
		if counts, _ := supervisor.CountChildren(ctx, n, sup); counts != (supervisor.Counts{Specs: 1, Active: 2, Workers: 2}) {
			t.Errorf("counts %+v", counts)
		}
		if err := supervisor.TerminateChildPID(ctx, n, sup, p1); err != nil {
			t.Fatal(err)
		}
		log.expect(t, "start conn [one]", "start conn [two]", "stop conn shutdown")
		if infos := children(t, n, sup); len(infos) != 1 || infos[0].PID != p2 {
			t.Errorf("children %+v, want only %v", infos, p2)
		}
		// As OTP: a PID that is gone counts as terminated, a live stranger is
		// not found.
		if err := supervisor.TerminateChildPID(ctx, n, sup, p1); err != nil {
			t.Errorf("TerminateChildPID of a dead process: %v", err)
		}
		if err := supervisor.TerminateChildPID(ctx, n, sup, sup); !errors.Is(err, supervisor.ErrNotFound) {
			t.Errorf("TerminateChildPID of a stranger: %v", err)
		}
		if spec, err := supervisor.GetChildSpec(ctx, n, sup, "conn"); err != nil || spec.ID != "conn" {
			t.Errorf("GetChildSpec of the template: %+v, %v", spec, err)
		}
		_, err = supervisor.StartChildArgs(ctx, n, sup, "fail")
		var se *supervisor.StartError
		if !errors.As(err, &se) || se.ID != "conn" {
			t.Errorf("a failing StartChildArgs: %v", err)
		}
	})
}

// TestSimpleOneForOneManyChildren: a thousand dynamic children, started with
// their own arguments, stopped all at once when the supervisor stops; the
// supervisor exits only after every one of them is gone.
func TestSimpleOneForOneManyChildren(t *testing.T) {
	const count = 1000
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		sup := start(t, n, supervisor.Spec{
			Strategy:  supervisor.SimpleOneForOne,
			Intensity: count,
			Children:  []supervisor.ChildSpec{argWorker("conn", log, supervisor.Permanent)},
		})
		monitor(t, n, sup, "sup", log)
		var started []actor.PID
		for i := range count {
			pid, err := supervisor.StartChildArgs(ctx, n, sup, i)
			if err != nil {
				t.Fatal(err)
			}
			started = append(started, pid)
		}
		if counts, _ := supervisor.CountChildren(ctx, n, sup); counts != (supervisor.Counts{Specs: 1, Active: count, Workers: count}) {
			t.Fatalf("counts %+v", counts)
		}
		infos := children(t, n, sup)
		for i, c := range infos {
			if c.PID != started[i] {
				t.Fatalf("child %d is %v, want %v (start order)", i, c.PID, started[i])
			}
		}
		events := log.take()
		for i, e := range events {
			if want := fmt.Sprintf("start conn [%d]", i); e != want {
				t.Fatalf("event %d = %q, want %q", i, e, want)
			}
		}

		// Crash every tenth: each is restarted with its own argument, in its
		// place, and the others are left alone.
		var want []string
		for i := 0; i < count; i += 10 {
			if err := n.Cast(started[i], exitWith{errBoom}); err != nil {
				t.Fatal(err)
			}
			want = append(want, "stop conn boom", fmt.Sprintf("start conn [%d]", i))
		}
		synctest.Wait()
		events = log.take()
		slices.Sort(events)
		slices.Sort(want)
		if !slices.Equal(events, want) {
			t.Fatalf("restart events %q, want %q", events, want)
		}
		infos = children(t, n, sup)
		if len(infos) != count {
			t.Fatalf("%d children after restarts", len(infos))
		}
		for i, c := range infos {
			if restarted := i%10 == 0; restarted == (c.PID == started[i]) || !alive(n, c.PID) {
				t.Fatalf("child %d: %v, started as %v", i, c.PID, started[i])
			}
		}

		if err := supervisor.Stop(ctx, n, sup); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		events = log.take()
		if len(events) != count+1 || events[count] != "down sup normal" {
			t.Fatalf("%d events, last %q: want %d stops, then the supervisor's exit", len(events), events[len(events)-1], count)
		}
		stops := events[:count]
		slices.Sort(stops)
		if stops[0] != "stop conn shutdown" || stops[count-1] != "stop conn shutdown" {
			t.Errorf("stops %q...", stops[:3])
		}
		if procs := n.Processes(); len(procs) != 0 {
			t.Fatalf("%d processes left", len(procs))
		}
	})
}

// TestSimpleOneForOneSharedTimer: dynamic children are stopped together, so
// children that ignore shutdown are all killed when one timeout runs out.
func TestSimpleOneForOneSharedTimer(t *testing.T) {
	bubble(t, func(t *testing.T, n *actor.Node) {
		log := &eventLog{}
		template := stubborn("s", log, 2*time.Second, 0)
		sup := start(t, n, supervisor.Spec{Strategy: supervisor.SimpleOneForOne, Children: []supervisor.ChildSpec{template}})
		var downs []<-chan actor.DownMessage
		for range 10 {
			pid, err := supervisor.StartChildArgs(ctx, n, sup)
			if err != nil {
				t.Fatal(err)
			}
			downs = append(downs, monitor(t, n, pid, "s", nil))
		}
		t0 := time.Now()
		if err := supervisor.Stop(ctx, n, sup); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(t0); elapsed != 2*time.Second {
			t.Errorf("Stop took %v, want 2s", elapsed)
		}
		for _, ch := range downs {
			if d := down(t, ch); !errors.Is(d.Reason, actor.Killed) {
				t.Errorf("child exit reason %v, want killed", d.Reason)
			}
		}
	})
}
