package cets_test

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/remote/transport"
)

func TestJoinMergesWithoutConflictHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(1), "a", "b")
		a, b := startTable(t, ns[0], "tab", cets.Options[string, Rec]{}), startTable(t, ns[1], "tab", cets.Options[string, Rec]{})
		mustInsert(t, a, Rec{"k", 1}, Rec{"x", 1})
		mustInsert(t, b, Rec{"k", 2}, Rec{"y", 1})
		before, _ := a.Info(t.Context())
		join(t, a, b)
		// As in CETS, each side takes the other side's record of a key both
		// had.
		if got := a.All(); !reflect.DeepEqual(got, []Rec{{"k", 2}, {"x", 1}, {"y", 1}}) {
			t.Fatalf("a: %v", got)
		}
		if got := b.All(); !reflect.DeepEqual(got, []Rec{{"k", 1}, {"x", 1}, {"y", 1}}) {
			t.Fatalf("b: %v", got)
		}
		ia, _ := a.Info(t.Context())
		ib, _ := b.Info(t.Context())
		if ia.JoinRef != ib.JoinRef || ia.JoinRef == before.JoinRef {
			t.Fatalf("join refs %d %d (before %d): want one new ref", ia.JoinRef, ib.JoinRef, before.JoinRef)
		}
		if len(ia.PauseMonitors) != 0 || len(ib.PauseMonitors) != 0 {
			t.Fatal("pauses left after the join")
		}
		// Writes replicate both ways afterwards.
		mustInsert(t, b, Rec{"z", 1})
		if !a.Has("z") {
			t.Fatal("write after join not replicated")
		}
	})
}

func TestJoinResolvesConflictsWithHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(2), "a", "b", "c")
		opts := cets.Options[string, Rec]{HandleConflict: func(l, r Rec) Rec {
			if l.Val >= r.Val {
				return l
			}
			return r
		}}
		a, b, c := startTable(t, ns[0], "tab", opts), startTable(t, ns[1], "tab", opts), startTable(t, ns[2], "tab", opts)
		join(t, a, b)
		mustInsert(t, a, Rec{"k", 1}, Rec{"j", 9})
		mustInsert(t, c, Rec{"k", 5}, Rec{"j", 3}, Rec{"c", 0})
		join(t, c, b) // c's handler resolves; a and b receive the results
		want := []Rec{{"c", 0}, {"j", 9}, {"k", 5}}
		for _, tab := range []*cets.Table[string, Rec]{a, b, c} {
			if got := tab.All(); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %v, want %v", tab.Node().Name(), got, want)
			}
			if info, _ := tab.Info(t.Context()); len(info.OtherServers) != 2 {
				t.Fatalf("%s: peers %v", tab.Node().Name(), info.OtherServers)
			}
		}
	})
}

func TestJoinRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(3), "a", "b")
		a, b := startTable(t, ns[0], "tab", cets.Options[string, Rec]{}), startTable(t, ns[1], "tab", cets.Options[string, Rec]{})
		if err := a.Join(t.Context(), a.Server(), cets.JoinOptions{}); !errors.Is(err, cets.ErrJoinWithSamePID) {
			t.Fatalf("join with itself: %v", err)
		}
		join(t, a, b)
		if err := b.Join(t.Context(), a.Server(), cets.JoinOptions{}); !errors.Is(err, cets.ErrAlreadyJoined) {
			t.Fatalf("join again: %v", err)
		}
	})
}

func TestJoinRefusedWhenSidesCannotReachEachOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(4)
		ns := cluster(t, net, "a", "b", "d")
		a, b := startTable(t, ns[0], "tab", cets.Options[string, Rec]{}), startTable(t, ns[1], "tab", cets.Options[string, Rec]{})
		// d reaches both, a and b do not reach each other.
		net.SetDrop("a", "b", 1)
		net.SetDrop("b", "a", 1)
		err := cets.Join(t.Context(), ns[2].Node, a.Server(), b.Server(), cets.JoinOptions{})
		if !errors.Is(err, cets.ErrCannotReach) {
			t.Fatalf("join: %v, want ErrCannotReach", err)
		}
		if info, _ := a.Info(t.Context()); len(info.OtherServers) != 0 || len(info.PauseMonitors) != 0 {
			t.Fatalf("refused join changed a: %+v", info)
		}
	})
}

func TestOneJoinAtATimeClusterWide(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(5), "a", "b")
		var mu sync.Mutex
		inside, most := 0, 0
		step := func(s string) {
			mu.Lock()
			defer mu.Unlock()
			switch s {
			case "locked":
				inside++
				most = max(most, inside)
			case "unpaused":
				inside--
			}
		}
		slow := func(s string) {
			step(s)
			if s == "locked" {
				time.Sleep(time.Second) // hold the lock a while
			}
		}
		var wg sync.WaitGroup
		for _, name := range []string{"t1", "t2", "t3"} {
			x, y := startTable(t, ns[0], name, cets.Options[string, Rec]{}), startTable(t, ns[1], name, cets.Options[string, Rec]{})
			wg.Go(func() {
				if err := x.Join(t.Context(), y.Server(), cets.JoinOptions{Step: slow}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if most != 1 {
			t.Fatalf("%d joins held the lock at once, want 1", most)
		}
	})
}

func TestJoinMovesDumpsInChunks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(6), "a", "b", "c")
		opts := cets.Options[string, Rec]{HandleConflict: func(l, r Rec) Rec { return Rec{l.Key, l.Val + r.Val} }}
		ts := []*cets.Table[string, Rec]{startTable(t, ns[0], "tab", opts), startTable(t, ns[1], "tab", opts), startTable(t, ns[2], "tab", opts)}
		join(t, ts[1], ts[2])
		var left, right []Rec
		for i := range 300 {
			left = append(left, Rec{fmt.Sprintf("k%03d", i), 1})
			right = append(right, Rec{fmt.Sprintf("k%03d", i+150), 10})
		}
		mustInsert(t, ts[0], left...)
		mustInsert(t, ts[1], right...)
		var steps []string
		err := ts[0].Join(t.Context(), ts[2].Server(), cets.JoinOptions{ChunkBytes: 200, Step: func(s string) { steps = append(steps, s) }})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"locked", "checked", "paused", "dumped", "sent", "unpaused"}; !reflect.DeepEqual(steps, want) {
			t.Fatalf("steps %v, want %v", steps, want)
		}
		for _, tab := range ts {
			if tab.Len() != 450 {
				t.Fatalf("%s: %d records, want 450", tab.Node().Name(), tab.Len())
			}
			for i := range 450 {
				want := 1
				switch {
				case i >= 150 && i < 300:
					want = 11 // on both sides: the handler's sum everywhere
				case i >= 300:
					want = 10
				}
				if got, _ := tab.Get(fmt.Sprintf("k%03d", i)); got.Val != want {
					t.Fatalf("%s: k%03d = %d, want %d", tab.Node().Name(), i, got.Val, want)
				}
			}
		}
		all, err := ts[0].RemoteDump(t.Context(), ts[2].Server())
		if err != nil || len(all) != 450 {
			t.Fatalf("remote dump: %d records, %v", len(all), err)
		}
	})
}
