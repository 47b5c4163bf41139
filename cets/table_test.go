package cets_test

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/remote/transport"
)

func TestInsertIsVisibleOnEveryNodeWhenItReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(1), "a", "b", "c")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		if err := ts[0].Insert(t.Context(), Rec{"k", 1}); err != nil {
			t.Fatal(err)
		}
		for _, tab := range ts {
			if got, ok := tab.Get("k"); !ok || got.Val != 1 {
				t.Fatalf("%s: Get = %v %v", tab.Node().Name(), got, ok)
			}
		}
		mustInsert(t, ts[1], Rec{"a", 1}, Rec{"b", 2}, Rec{"c", 3})
		if err := ts[2].Delete(t.Context(), "k"); err != nil {
			t.Fatal(err)
		}
		if err := ts[2].DeleteObject(t.Context(), Rec{"c", 4}); err != nil { // not that object: kept
			t.Fatal(err)
		}
		if err := ts[0].DeleteMany(t.Context(), []string{"a"}); err != nil {
			t.Fatal(err)
		}
		want := []Rec{{"b", 2}, {"c", 3}}
		for _, tab := range ts {
			if got := tab.All(); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %v, want %v", tab.Node().Name(), got, want)
			}
			if tab.Len() != 2 {
				t.Fatalf("%s: Len %d", tab.Node().Name(), tab.Len())
			}
		}
		info, err := ts[0].Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(info.Nodes, []string{"a", "b", "c"}) || info.Size != 2 || len(info.OtherServers) != 2 {
			t.Fatalf("info %+v", info)
		}
		if err := ts[1].PingAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		other, _ := ts[1].OtherNodes(t.Context())
		if !reflect.DeepEqual(other, []string{"a", "c"}) {
			t.Fatalf("other nodes %v", other)
		}
		dump, err := ts[0].RemoteDump(t.Context(), ts[2].Server())
		if err != nil || !reflect.DeepEqual(dump, want) {
			t.Fatalf("remote dump %v %v", dump, err)
		}
	})
}

func TestStartRefusesBagWithConflictHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := startNode(t, transport.NewNetwork(1), "a")
		_, err := cets.Start(n.Node, "t", cets.Options[string, Rec]{Type: cets.Bag, Key: recKey,
			HandleConflict: func(a, b Rec) Rec { return a }})
		if !errors.Is(err, cets.ErrBagWithConflictHandler) {
			t.Fatalf("err %v", err)
		}
		if _, err := cets.Start(n.Node, "t", cets.Options[string, Rec]{}); !errors.Is(err, cets.ErrBadOptions) {
			t.Fatalf("no key: %v", err)
		}
	})
}

// TestReadsDuringWrites reads from other goroutines while writes go on
// (meaningful under -race): point and ordered reads see whole records.
func TestReadsDuringWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(9), "a", "b")
		ts := tables(t, ns, "tab", cets.Options[string, Rec]{})
		done := make(chan struct{})
		var readers sync.WaitGroup
		for _, tab := range ts {
			readers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if r, ok := tab.Get("k0"); ok && r.Key != "k0" {
						t.Errorf("torn record %v", r)
					}
					for _, r := range tab.All() {
						if r.Val < 0 {
							t.Errorf("bad record %v", r)
						}
					}
					runtime.Gosched()
				}
			})
		}
		var writers sync.WaitGroup
		for w := range 4 {
			writers.Go(func() {
				for i := range 50 {
					mustInsert(t, ts[w%2], Rec{fmt.Sprintf("k%d", i%10), i})
					if i%7 == 0 {
						if err := ts[w%2].Delete(t.Context(), fmt.Sprintf("k%d", i%10)); err != nil {
							t.Error(err)
						}
					}
				}
			})
		}
		writers.Wait()
		close(done)
		readers.Wait()
	})
}
