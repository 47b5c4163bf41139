package bench

import (
	"strings"
	"testing"
	"time"
)

// checkHarness runs h twice at n units (a harness must be reusable after a
// run) and stops it; it fails the test if that takes over a minute.
func checkHarness(t *testing.T, h harness, n int) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.run(n)
		h.run(n)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("harness did not finish")
	}
	h.stop()
}

// runLeaves runs each leaf as a sub-benchmark of b under the rest of its name,
// so that go test prints the names the leaf registry holds. A leaf of another
// benchmark fails b: the registry and the BenchmarkXxx functions must agree.
func runLeaves(b *testing.B, leaves []Leaf) {
	b.Helper()
	top := strings.TrimPrefix(b.Name(), "Benchmark")
	for _, l := range leaves {
		group, sub, ok := strings.Cut(l.Name, "/")
		if !ok || group != top {
			b.Fatalf("leaf %q does not belong to %s", l.Name, b.Name())
		}
		b.Run(sub, l.Run)
	}
}
