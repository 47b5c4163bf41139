package cets_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/remote/transport"
)

func TestInsertNewSucceedsExactlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(1), "a", "b", "c")
		var wrong atomic.Int32
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{
			HandleWrongLeader: func(cets.WrongLeaderInfo) { wrong.Add(1) },
		})
		info, _ := ts[0].Info(t.Context())
		if leader, _ := ts[2].PID(); info.Leader != leader {
			t.Fatalf("leader %v, want c's server %v (the highest)", info.Leader, leader)
		}
		var inserted atomic.Int32
		var wg sync.WaitGroup
		for i := range 9 {
			wg.Go(func() {
				ok, err := ts[i%3].InsertNew(t.Context(), Rec{"k", i})
				if err != nil {
					t.Error(err)
				}
				if ok {
					inserted.Add(1)
				}
			})
		}
		wg.Wait()
		if inserted.Load() != 1 {
			t.Fatalf("%d InsertNew calls inserted, want 1", inserted.Load())
		}
		// Non-leaders were told wrong_leader and retried at the leader.
		if wrong.Load() != 6 {
			t.Fatalf("HandleWrongLeader called %d times, want 6", wrong.Load())
		}
		want, _ := ts[2].Get("k")
		for _, tab := range ts {
			if got, _ := tab.Get("k"); got != want {
				t.Fatalf("%s: %v, want %v", tab.Node().Name(), got, want)
			}
		}
		recs, inserted2, err := ts[0].InsertNewOrLookup(t.Context(), Rec{"k", 100})
		if err != nil || inserted2 || len(recs) != 1 || recs[0] != want {
			t.Fatalf("InsertNewOrLookup of a taken key: %v %v %v", recs, inserted2, err)
		}
		recs, inserted2, err = ts[1].InsertNewOrLookup(t.Context(), Rec{"j", 1})
		if err != nil || !inserted2 || recs[0] != (Rec{"j", 1}) {
			t.Fatalf("InsertNewOrLookup of a free key: %v %v %v", recs, inserted2, err)
		}
	})
}

func TestInsertSerialConverges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(2), "a", "b", "c")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Go(func() {
				if err := ts[i%3].InsertSerial(t.Context(), Rec{"k", i}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		want, _ := ts[0].Get("k")
		for _, tab := range ts {
			if got, _ := tab.Get("k"); got != want {
				t.Fatalf("%s: %v, want %v", tab.Node().Name(), got, want)
			}
		}
	})
}

func TestWrongLeaderRetriesFollowTheSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(3), "a", "b")
		var delays []time.Duration
		schedule := []time.Duration{10 * time.Millisecond, 50 * time.Millisecond}
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{
			LeaderRetry:       schedule,
			HandleWrongLeader: func(i cets.WrongLeaderInfo) { delays = append(delays, i.NextDelay) },
		})
		// b, the leader, is paused: a's InsertNew is told wrong_leader by a,
		// waits 10 ms, and then waits at b.
		ref, err := ts[1].Pause(t.Context(), actor.PID{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := ts[0].InsertNew(t.Context(), Rec{"k", 1})
			done <- err
		}()
		synctest.Wait()
		if len(delays) != 1 || delays[0] != schedule[0] {
			t.Fatalf("delays %v", delays)
		}
		if err := ts[1].Unpause(t.Context(), ref); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el != schedule[0] {
			t.Fatalf("took %v, want one retry wait of %v", el, schedule[0])
		}
	})
}

func TestLeaderDeathMidInsertNewIsAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(4), "a", "b")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		if _, err := ts[1].Pause(t.Context(), actor.PID{}); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := ts[0].InsertNew(t.Context(), Rec{"k", 1})
			done <- err
		}()
		synctest.Wait()
		leader, _ := ts[1].PID()
		if err := ns[1].Exit(leader, actor.Kill); err != nil {
			t.Fatal(err)
		}
		err := <-done
		if err == nil || errors.Is(err, cets.ErrWrongLeader) {
			t.Fatalf("InsertNew with a dying leader: %v, want the leader's exit", err)
		}
		// After the loss a is the leader and InsertNew works there.
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if ok, err := ts[0].InsertNew(ctx, Rec{"k", 2}); err != nil || !ok {
			t.Fatalf("InsertNew on the new leader: %v %v", ok, err)
		}
	})
}
