package cets

import (
	"fmt"
	"sync"
	"testing"
)

func TestIndexPutReplaceRemoveGrow(t *testing.T) {
	ix := newIndex[string, rec]()
	const n = 1000
	for i := range n {
		ix.put(item[string, rec]{key: fmt.Sprint(i), val: rec{fmt.Sprint(i), i}})
	}
	for i := range n {
		ix.put(item[string, rec]{key: fmt.Sprint(i), val: rec{fmt.Sprint(i), -i}})
	}
	if ix.n != n || len(ix.table.Load().buckets) < n {
		t.Fatalf("n %d, buckets %d", ix.n, len(ix.table.Load().buckets))
	}
	for i := range n {
		it, ok := ix.get(fmt.Sprint(i))
		if !ok || it.val.Val != -i {
			t.Fatalf("key %d: %v %v", i, it, ok)
		}
	}
	for i := 0; i < n; i += 2 {
		ix.remove(fmt.Sprint(i))
	}
	ix.remove("absent")
	if ix.n != n/2 {
		t.Fatalf("n %d after removals", ix.n)
	}
	for i := range n {
		if _, ok := ix.get(fmt.Sprint(i)); ok != (i%2 == 1) {
			t.Fatalf("key %d present %v", i, ok)
		}
	}
}

// TestIndexReadersDuringWrites reads while the owner writes (run under
// -race): a reader sees a key's record before or after a write, never
// anything else.
func TestIndexReadersDuringWrites(t *testing.T) {
	ix := newIndex[int, rec]()
	const keys = 200
	for k := range keys {
		ix.put(item[int, rec]{key: k, val: rec{Val: 0}})
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for k := range keys {
					if it, ok := ix.get(k); !ok || it.key != k {
						t.Errorf("key %d lost: %v %v", k, it, ok)
						return
					}
				}
			}
		})
	}
	for round := 1; round <= 50; round++ {
		for k := range keys {
			ix.put(item[int, rec]{key: k, val: rec{Val: round}})
		}
		// Keys come and go beyond the fixed ones, growing the table.
		ix.put(item[int, rec]{key: keys + round, val: rec{}})
	}
	close(stop)
	wg.Wait()
}
