package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestBenchSmoke runs every harness once with small counts, so that `go test`
// checks the benchmarks' code without running the benchmarks.
func TestBenchSmoke(t *testing.T) {
	const n = 2000
	for _, s := range pingPongSides {
		t.Run("pingpong/"+s.name, func(t *testing.T) { checkHarness(t, s.setup(t), n) })
	}
	for _, s := range callSides {
		t.Run("call/"+s.name, func(t *testing.T) { checkHarness(t, s.setup(t), n) })
	}
	for _, s := range fanInSides {
		for _, p := range fanInProducers {
			t.Run(fmt.Sprintf("fanin/%s/producers=%d", s.name, p), func(t *testing.T) {
				checkHarness(t, s.setup(t, p), 10*n+p-1) // a count that does not split evenly
			})
		}
	}
	for _, s := range spawnIdleSides {
		t.Run("spawnidle/"+s.name, func(t *testing.T) {
			// Many processes, so that stacks freed by what earlier tests left
			// running (a few MB at most) cannot hide what they cost.
			const procs = 10 * n
			st := measureSpawn(t, nil, s.setup, procs)
			perProc := float64(st.bytes) / procs
			t.Logf("%.0f B/proc, %.1f allocs/proc", perProc, float64(st.allocs)/procs)
			if st.bytes <= 0 || perProc > 1<<20 {
				t.Errorf("implausible idle process size %.0f B", perProc)
			}
		})
	}
}

// TestLeaves checks the registry a plain program runs from: unique names, each
// under one of the benchmarks that run them, each with a function.
func TestLeaves(t *testing.T) {
	benchmarks := []string{"RemoteSend", "RemoteCall", "TwoProcesses", "Call", "FanIn", "PingPong", "SpawnIdle"}
	seen := map[string]bool{}
	var groups []string
	for _, l := range Leaves() {
		if seen[l.Name] {
			t.Errorf("leaf %q twice", l.Name)
		}
		seen[l.Name] = true
		if l.Run == nil {
			t.Errorf("leaf %q has no function", l.Name)
		}
		group, _, _ := strings.Cut(l.Name, "/")
		if !slices.Contains(benchmarks, group) {
			t.Errorf("leaf %q belongs to no benchmark", l.Name)
		}
		if len(groups) == 0 || groups[len(groups)-1] != group {
			groups = append(groups, group)
		}
	}
	if !slices.Equal(groups, benchmarks) {
		t.Errorf("leaf groups %v, want %v (each once, in this order)", groups, benchmarks)
	}
	for _, want := range []string{"RemoteSend/gotp/pairs=1/payload=64", "TwoProcesses/call/raw", "SpawnIdle/protoactor/n=100000"} {
		if !seen[want] {
			t.Errorf("no leaf %q", want)
		}
	}
}
