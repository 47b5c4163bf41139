package cets_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/remote/transport"
)

func TestPauseHoldsWritesAndUnpauseAppliesThemInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(1), "a", "b")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		r1, err := ts[1].Pause(t.Context(), idle(t, ns[1]))
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ts[1].Pause(t.Context(), idle(t, ns[1]))
		if err != nil {
			t.Fatal(err)
		}
		// b's own writes wait; a's reach b and wait in its backlog, and a's
		// write waits for b's ack.
		var reqs []*cets.Request
		for i := 1; i <= 3; i++ {
			reqs = append(reqs, ts[1].InsertRequest(Rec{"k", i}))
			synctest.Wait()
		}
		fromA := ts[0].InsertRequest(Rec{"a", 1})
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err = cets.WaitResponse(ctx, fromA)
		cancel()
		if !errors.Is(err, cets.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("write to a paused peer returned: %v", err)
		}
		if _, ok := ts[1].Get("k"); ok {
			t.Fatal("write applied while paused")
		}
		info, _ := ts[1].Info(t.Context())
		if info.Backlog != 4 || !reflect.DeepEqual(info.PauseMonitors, []actor.Ref{r1, r2}) {
			t.Fatalf("info %+v", info)
		}
		if err := ts[1].Unpause(t.Context(), r1); err != nil {
			t.Fatal(err)
		}
		if err := ts[1].Unpause(t.Context(), r1); !errors.Is(err, cets.ErrUnknownPauseMonitor) {
			t.Fatalf("second unpause: %v", err)
		}
		synctest.Wait()
		if _, ok := ts[1].Get("k"); ok {
			t.Fatal("applied while still paused once")
		}
		if err := ts[1].Unpause(t.Context(), r2); err != nil {
			t.Fatal(err)
		}
		for i, err := range cets.WaitResponses(t.Context(), append(reqs, fromA)) {
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		for _, tab := range ts {
			if got, _ := tab.Get("k"); got.Val != 3 {
				t.Fatalf("%s: k = %d, want the last write, 3", tab.Node().Name(), got.Val)
			}
			if _, ok := tab.Get("a"); !ok {
				t.Fatalf("%s: a's write lost", tab.Node().Name())
			}
		}
	})
}

func TestPauseIsReleasedWhenItsOwnerDies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(2), "a", "b")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		owner := idle(t, ns[0]) // on the other node
		if _, err := ts[1].Pause(t.Context(), owner); err != nil {
			t.Fatal(err)
		}
		req := ts[1].InsertRequest(Rec{"k", 1})
		synctest.Wait()
		if err := ns[0].Send(owner, errors.New("owner crashed")); err != nil {
			t.Fatal(err)
		}
		if err := cets.WaitResponse(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		if got, _ := ts[0].Get("k"); got.Val != 1 {
			t.Fatal("write not replicated after the pause ended")
		}
		info, _ := ts[1].Info(t.Context())
		if len(info.PauseMonitors) != 0 {
			t.Fatalf("pause left: %+v", info.PauseMonitors)
		}
	})
}

// TestConcurrentWritesMayDivergeButInsertSerialConverges orders two
// same-key writes so that each node applies the other's last (as CETS
// allows for plain inserts), then shows InsertSerial bringing them together.
func TestConcurrentWritesMayDivergeButInsertSerialConverges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(3), "a", "b")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		ra, _ := ts[0].Pause(t.Context(), actor.PID{})
		rb, _ := ts[1].Pause(t.Context(), actor.PID{})
		wa := ts[0].InsertRequest(Rec{"k", 1})
		wb := ts[1].InsertRequest(Rec{"k", 2})
		synctest.Wait()
		// a writes k=1 and sends it to b, where it waits behind b's own k=2;
		// then b writes k=2 and applies k=1, while a applies k=2.
		if err := ts[0].Unpause(t.Context(), ra); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := ts[1].Unpause(t.Context(), rb); err != nil {
			t.Fatal(err)
		}
		for _, err := range cets.WaitResponses(t.Context(), []*cets.Request{wa, wb}) {
			if err != nil {
				t.Fatal(err)
			}
		}
		ga, _ := ts[0].Get("k")
		gb, _ := ts[1].Get("k")
		if ga.Val != 2 || gb.Val != 1 {
			t.Fatalf("a=%d b=%d, want the crossed result a=2 b=1", ga.Val, gb.Val)
		}
		if err := ts[0].InsertSerial(t.Context(), Rec{"k", 3}); err != nil {
			t.Fatal(err)
		}
		ga, _ = ts[0].Get("k")
		gb, _ = ts[1].Get("k")
		if ga != gb {
			t.Fatalf("after InsertSerial a=%v b=%v", ga, gb)
		}
	})
}
