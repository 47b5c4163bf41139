package bench

import (
	"fmt"
	"testing"
)

// TestBenchSmoke runs every harness once with small counts, so that `go test`
// checks the benchmarks' code without running the benchmarks.
func TestBenchSmoke(t *testing.T) {
	const n = 2000
	for name, setup := range map[string]func(testing.TB) harness{
		"pingpong/gotp":                 gotpPingPong,
		"pingpong/chan":                 chanPingPong,
		"pingpong/protoactor":           protoPingPong,
		"call/gotp_from_goroutine":      gotpCallFromGoroutine,
		"call/gotp_from_process":        gotpCallFromProcess,
		"call/protoactor_requestfuture": protoRequestFuture,
		"call/chan_roundtrip":           chanRoundTrip,
	} {
		t.Run(name, func(t *testing.T) { checkHarness(t, setup(t), n) })
	}
	for name, setup := range map[string]func(testing.TB, int) harness{
		"fanin/gotp":       gotpFanIn,
		"fanin/chan":       chanFanIn,
		"fanin/protoactor": protoFanIn,
	} {
		for _, p := range fanInProducers {
			t.Run(fmt.Sprintf("%s/producers=%d", name, p), func(t *testing.T) {
				checkHarness(t, setup(t, p), 10*n+p-1) // a count that does not split evenly
			})
		}
	}
	for name, setup := range map[string]func(testing.TB, int) idleSpawner{
		"spawnidle/gotp":       gotpIdle,
		"spawnidle/protoactor": protoIdle,
	} {
		t.Run(name, func(t *testing.T) {
			// Many processes, so that stacks freed by what earlier tests left
			// running (a few MB at most) cannot hide what they cost.
			const procs = 10 * n
			st := measureSpawn(t, nil, setup, procs)
			perProc := float64(st.bytes) / procs
			t.Logf("%.0f B/proc, %.1f allocs/proc", perProc, float64(st.allocs)/procs)
			if st.bytes <= 0 || perProc > 1<<20 {
				t.Errorf("implausible idle process size %.0f B", perProc)
			}
		})
	}
}
