package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// cetsRec is the record of the table benchmarks.
type cetsRec struct {
	Key int
	Val int
}

func cetsKey(r cetsRec) int { return r.Key }

const cetsReadKeys = 100_000

// cetsCluster starts n connected nodes on an in-memory network, each with
// a lock server and the table "bench", joined into one cluster.
func cetsCluster(tb testing.TB, n int) ([]*cets.Table[int, cetsRec], func()) {
	return cetsNodes(tb, n, true)
}

// cetsNodes is cetsCluster with the join optional.
func cetsNodes(tb testing.TB, n int, join bool) ([]*cets.Table[int, cetsRec], func()) {
	tb.Helper()
	net := transport.NewNetwork(1)
	var nodes []*actor.Node
	var remotes []*remote.Remote
	var tabs []*cets.Table[int, cetsRec]
	for i := range n {
		name := fmt.Sprintf("n%d", i)
		node, err := actor.NewNode(actor.Config{Name: name, Logger: discard})
		if err != nil {
			tb.Fatal(err)
		}
		r, err := remote.Start(node, remote.Config{Cookie: "bench", Transport: net.Transport(name), Listen: []string{name}})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := clusterlock.Start(node, clusterlock.Config{}); err != nil {
			tb.Fatal(err)
		}
		tab, err := cets.Start(node, "bench", cets.Options[int, cetsRec]{Key: cetsKey, Logger: discard})
		if err != nil {
			tb.Fatal(err)
		}
		nodes, remotes, tabs = append(nodes, node), append(remotes, r), append(tabs, tab)
	}
	ctx := context.Background()
	for i, r := range remotes {
		for _, other := range remotes[i+1:] {
			if err := r.Connect(ctx, other.Spec()); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for _, tab := range tabs[1:] {
		if !join {
			break
		}
		if err := tabs[0].Join(ctx, tab.Server(), cets.JoinOptions{}); err != nil {
			tb.Fatal(err)
		}
	}
	return tabs, func() {
		for i, node := range nodes {
			remotes[i].Stop()
			stopGotpNode(tb, node)
		}
	}
}

// parallel runs total iterations of fn split over g goroutines; fn gets
// the goroutine's index and the iteration.
func parallel(g, total int, fn func(worker, i int)) {
	var wg sync.WaitGroup
	for w := range g {
		share := total / g
		if w < total%g {
			share++
		}
		wg.Go(func() {
			for i := range share {
				fn(w, i)
			}
		})
	}
	wg.Wait()
}

// BenchmarkCetsRead compares a local cets read with sync.Map and a map
// under sync.RWMutex holding the same 100k int keys, on 1 and 2 goroutines.
func BenchmarkCetsRead(b *testing.B) {
	tabs, stop := cetsCluster(b, 1)
	defer stop()
	recs := make([]cetsRec, cetsReadKeys)
	var sm sync.Map
	var mu sync.RWMutex
	plain := make(map[int]cetsRec, cetsReadKeys)
	for i := range recs {
		recs[i] = cetsRec{Key: i, Val: i}
		sm.Store(i, recs[i])
		plain[i] = recs[i]
	}
	if err := tabs[0].InsertMany(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	reads := map[string]func(k int) bool{
		"cets": func(k int) bool { _, ok := tabs[0].Get(k); return ok },
		"syncmap": func(k int) bool {
			v, ok := sm.Load(k)
			_ = v.(cetsRec)
			return ok
		},
		"rwmutex": func(k int) bool {
			mu.RLock()
			_, ok := plain[k]
			mu.RUnlock()
			return ok
		},
	}
	for _, name := range []string{"cets", "syncmap", "rwmutex"} {
		read := reads[name]
		for _, g := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", name, g), func(b *testing.B) {
				b.ReportAllocs()
				b.ResetTimer()
				parallel(g, b.N, func(w, i int) {
					if !read((i*7919 + w*104729) % cetsReadKeys) {
						panic("missing key")
					}
				})
				b.StopTimer()
				b.ReportMetric(perSecond(b, b.N), "reads/s")
			})
		}
	}
}

// BenchmarkCetsInsert measures replicated inserts (each returns once every
// node applied it) into a table on 1, 3 and 5 in-process nodes, from 1 and
// 64 writers on the first node.
func BenchmarkCetsInsert(b *testing.B) {
	for _, nodes := range []int{1, 3, 5} {
		for _, writers := range []int{1, 64} {
			b.Run(fmt.Sprintf("nodes=%d/writers=%d", nodes, writers), func(b *testing.B) {
				tabs, stop := cetsCluster(b, nodes)
				defer stop()
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				parallel(writers, b.N, func(w, i int) {
					if err := tabs[0].Insert(ctx, cetsRec{Key: w<<32 | i, Val: i}); err != nil {
						panic(err)
					}
				})
				b.StopTimer()
				b.ReportMetric(perSecond(b, b.N), "inserts/s")
			})
		}
	}
}

// BenchmarkCetsMemory reports the heap taken per record of a one-node table
// of 200k records (the table's index and the records; one op is the whole
// table).
func BenchmarkCetsMemory(b *testing.B) {
	const records = 200_000
	for range b.N {
		b.StopTimer()
		tabs, stop := cetsCluster(b, 1)
		recs := make([]cetsRec, records)
		for i := range recs {
			recs[i] = cetsRec{Key: i, Val: i}
		}
		before := heapInUse()
		b.StartTimer()
		for i := 0; i < records; i += 10_000 {
			if err := tabs[0].InsertMany(context.Background(), recs[i:i+10_000]); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		recs = nil
		after := heapInUse()
		b.ReportMetric(float64(after-before)/records, "B/record")
		if tabs[0].Len() != records {
			b.Fatal("records missing")
		}
		stop()
	}
}

// BenchmarkCetsJoin measures the join of two one-node tables of 1M records
// each (disjoint keys).
func BenchmarkCetsJoin(b *testing.B) {
	const records = 1_000_000
	for range b.N {
		b.StopTimer()
		tabs, stop := cetsNodes(b, 2, false)
		other := tabs[1]
		ctx := context.Background()
		for side, tab := range tabs {
			recs := make([]cetsRec, records)
			for i := range recs {
				recs[i] = cetsRec{Key: side*records + i, Val: i}
			}
			if err := tab.InsertMany(ctx, recs); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		if err := tabs[0].Join(actor.WithoutCallTimeout(ctx), other.Server(), cets.JoinOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(time.Since(start).Seconds(), "s/join")
		if tabs[0].Len() != 2*records || other.Len() != 2*records {
			b.Fatalf("sizes %d %d", tabs[0].Len(), other.Len())
		}
		stop()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestCetsBenchSmoke runs the table benchmarks' setup and work once with
// small counts, so that a plain go test checks them.
func TestCetsBenchSmoke(t *testing.T) {
	tabs, stop := cetsCluster(t, 3)
	defer stop()
	ctx := context.Background()
	parallel(8, 200, func(w, i int) {
		if err := tabs[0].Insert(ctx, cetsRec{Key: w<<32 | i, Val: i}); err != nil {
			t.Error(err)
		}
	})
	for _, tab := range tabs {
		if tab.Len() != 200 {
			t.Fatalf("%s has %d records, want 200", tab.Node().Name(), tab.Len())
		}
	}
	if _, ok := tabs[2].Get(7<<32 | 3); !ok {
		t.Fatal("replicated record not readable")
	}
}
