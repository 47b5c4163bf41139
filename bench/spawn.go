package bench

import (
	"runtime"
	"sync/atomic"
	"testing"

	pa "github.com/asynkron/protoactor-go/actor"
	"github.com/gotp-dev/gotp/actor"
)

// SpawnIdle: spawn n processes that then sit idle with an empty mailbox. One
// op spawns all n; the reported metrics are per process:
//
//   - ns/spawn: measured time divided by n.
//   - B/proc: growth of HeapAlloc+StackInuse (each read right after
//     runtime.GC) from before the first spawn to after the last, divided by n:
//     what an idle process keeps alive, including its share of the runtime's
//     process table.
//   - allocs/proc: heap allocations made while spawning, divided by n.
//
// gotp's Spawn returns a process that is ready and holds no goroutine.
// protoactor's Spawn schedules a goroutine that delivers Started; the measured
// time runs until every actor has handled Started, so both sides end with n
// ready, idle processes. The node or actor system is stopped (untimed) after
// each op.

var spawnCounts = []int{100_000, 1_000_000}

// and releases the runtime.
type idleSpawner struct {
	spawn func()
	stop  func()
}

type spawnStats struct {
	// bytes is signed: goroutines of earlier work that end during the
	// measurement free their stacks, and can make it negative.
	bytes  int64
	allocs uint64
}

// measureSpawn sets up a spawner, spawns its n processes and returns what they
// cost; the measured time covers spawn alone when b is non-nil.
func measureSpawn(tb testing.TB, b *testing.B, setup func(testing.TB, int) idleSpawner, n int) spawnStats {
	s := setup(tb, n)
	before := memNow()
	if b != nil {
		b.StartTimer()
	}
	s.spawn()
	if b != nil {
		b.StopTimer()
	}
	after := memNow()
	s.stop()
	return spawnStats{
		bytes:  int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse),
		allocs: after.Mallocs - before.Mallocs,
	}
}

func runSpawnIdle(b *testing.B, setup func(testing.TB, int) idleSpawner, n int) {
	b.ReportAllocs()
	var total spawnStats
	ops := 0
	for b.Loop() {
		b.StopTimer()
		st := measureSpawn(b, b, setup, n)
		total.bytes += st.bytes
		total.allocs += st.allocs
		ops++
		b.StartTimer()
	}
	procs := float64(ops) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/procs, "ns/spawn")
	b.ReportMetric(float64(total.bytes)/procs, "B/proc")
	b.ReportMetric(float64(total.allocs)/procs, "allocs/proc")
}

func memNow() runtime.MemStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

func idle(*actor.Process, any) error { return nil }

func gotpIdle(tb testing.TB, n int) idleSpawner {
	node := newGotpNode(tb)
	behavior := actor.Func(idle)
	return idleSpawner{
		spawn: func() {
			for range n {
				if _, err := node.Spawn(behavior); err != nil {
					panic(err)
				}
			}
		},
		stop: func() { stopGotpNode(tb, node) },
	}
}

func protoIdle(tb testing.TB, n int) idleSpawner {
	sys := newProtoSystem()
	var started, stopped atomic.Int64
	ready, gone := make(chan struct{}), make(chan struct{})
	props := pa.PropsFromFunc(func(ctx pa.Context) {
		switch ctx.Message().(type) {
		case *pa.Started:
			if started.Add(1) == int64(n) {
				close(ready)
			}
		case *pa.Stopped:
			if stopped.Add(1) == int64(n) {
				close(gone)
			}
		}
	})
	// Allocated before the baseline is read, so it is not counted.
	pids := make([]*pa.PID, n)
	return idleSpawner{
		spawn: func() {
			for i := range pids {
				pids[i] = sys.Root.Spawn(props)
			}
			<-ready
		},
		stop: func() {
			for _, pid := range pids {
				sys.Root.Stop(pid)
			}
			<-gone
			sys.Shutdown()
		},
	}
}
