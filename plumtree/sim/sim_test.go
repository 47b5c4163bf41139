package sim

import (
	"fmt"
	"strings"
	"testing"
)

// The papers' figures at 1,000 nodes (10,000 in the command): fewer
// broadcasts and cycles than the command runs, so that the test stays short
// under the race detector.

func testNodes() int {
	if testing.Short() {
		return 400
	}
	return 1000
}

func TestStableNetwork(t *testing.T) {
	t.Parallel()
	p := Params{Broadcasts: 40}
	eager, err := Stable(Config{Nodes: testNodes(), Seed: 1}, p, LabelEager, true)
	if err != nil {
		t.Fatal(err)
	}
	plum, err := Stable(Config{Nodes: testNodes(), Seed: 1, Protocol: Plumtree}, p, LabelPlumtree, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []Run{eager, plum} {
		if m := run.Min(Delivery.Reliability); m != 100 {
			t.Errorf("%s: reliability down to %.2f%%", run.Label, m)
		}
	}
	// Eager gossip with fanout 4: every node but the root sends 4 copies.
	if rmr := eager.Mean(0, len(eager.Deliveries), Delivery.RMR); rmr < 2.9 || rmr > 3.1 {
		t.Errorf("eager RMR %.3f, paper 3.0", rmr)
	}
	// Plumtree: the first broadcast builds the tree (paper 2.0, 0.9, 0.04,
	// then 0).
	if rmr := plum.Deliveries[0].RMR(); rmr > 3.1 {
		t.Errorf("plumtree RMR of the first broadcast %.3f", rmr)
	}
	for i, d := range plum.Deliveries[2:] {
		if d.RMR() > 0.05 {
			t.Errorf("plumtree broadcast %d: RMR %.3f > 0.05", i+3, d.RMR())
		}
	}
	eLDH, pLDH := eager.Mean(10, 40, hops), plum.Mean(10, 40, hops)
	if pLDH > eLDH+2 {
		t.Errorf("plumtree LDH %.2f far above eager %.2f", pLDH, eLDH)
	}
	t.Logf("eager RMR %.3f LDH %.2f; plumtree RMR #1-3 %.3f %.3f %.3f LDH %.2f",
		eager.Mean(0, 40, Delivery.RMR), eLDH, plum.Deliveries[0].RMR(), plum.Deliveries[1].RMR(), plum.Deliveries[2].RMR(), pLDH)
}

func TestChurn(t *testing.T) {
	t.Parallel()
	run, err := Churn(Config{Nodes: testNodes(), Seed: 2, Protocol: Plumtree}, Params{FailureCycles: 40}, LabelPlumtree)
	if err != nil {
		t.Fatal(err)
	}
	if m := run.Min(Delivery.Reliability); m != 100 {
		t.Errorf("reliability down to %.2f%% (paper: 100%%)", m)
	}
	if rmr := run.Mean(0, len(run.Deliveries), Delivery.RMR); rmr > 0.5 {
		t.Errorf("mean RMR %.3f under churn (paper: slightly above 0)", rmr)
	}
}

func TestMassFailure(t *testing.T) {
	t.Parallel()
	for _, pct := range []int{50, 80} {
		m, err := Failure(Config{Nodes: testNodes(), Seed: 3, Protocol: Plumtree}, Params{Stabilization: 25, AfterFailure: 3}, LabelPlumtree, pct)
		if err != nil {
			t.Fatal(err)
		}
		if h := m.HealedAfter(); h < 1 || h > 2 {
			t.Errorf("plumtree, %d%% failed: healed after %d broadcasts (paper: at most 2 up to 80%%)", pct, h)
		}
		if pct == 50 && m.Next() < 95 {
			t.Errorf("plumtree, 50%% failed: next broadcast %.2f%% (paper 95%%)", m.Next())
		}
		f, err := Failure(Config{Nodes: testNodes(), Seed: 3, Protocol: Flood}, Params{Stabilization: 25, FloodMessages: 100}, LabelFlood, pct)
		if err != nil {
			t.Fatal(err)
		}
		if r := f.MeanReliability(); r < 99.5 {
			t.Errorf("flooding, %d%% failed: mean reliability %.2f%% (paper: 100%% up to 80%%)", pct, r)
		}
		if f.Components != 1 {
			t.Errorf("flooding, %d%% failed: survivors in %d components", pct, f.Components)
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	run := func() string {
		r, err := Stable(Config{Nodes: 200, Seed: 9, Protocol: Plumtree}, Params{Stabilization: 5, Broadcasts: 5}, "x", false)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(r.Deliveries)
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("same seed, different runs:\n%s\n%s", a, b)
	}
}

func TestDetectOnSend(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Nodes: 200, Seed: 4, Protocol: Flood, DetectOnSend: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Stabilize(5)
	victim := s.Active(0)[0]
	s.Kill([]int{victim})
	if !contains(s.Active(0), victim) {
		t.Fatal("a failure was noticed before any send")
	}
	if _, err := s.Broadcast(0); err != nil {
		t.Fatal(err)
	}
	if contains(s.Active(0), victim) {
		t.Fatal("a failed send did not remove the peer")
	}
	if _, err := s.Broadcast(victim); err != ErrDead {
		t.Fatalf("broadcast from a failed node: %v", err)
	}
}

func TestReportRenders(t *testing.T) {
	t.Parallel()
	rep, err := RunAll(60, 1, Params{Stabilization: 3, Broadcasts: 12, FailureCycles: 3, WarmUp: 2, AfterFailure: 2, FloodMessages: 5}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown("img")
	for _, want := range []string{"## 1. Stable network", "## 2.", "## 3.", "| 95% |", "img/stable-rmr.svg"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	charts := rep.Charts()
	for _, name := range []string{"stable-rmr.svg", "stable-ldh.svg", "churn-reliability.svg", "churn-rmr.svg", "failure-reliability.svg", "failure-healing.svg", "failure-flood-recovery.svg"} {
		svg := charts[name].SVG()
		if !strings.HasPrefix(svg, "<svg") || !strings.Contains(svg, "polyline") && !strings.Contains(svg, "circle") {
			t.Errorf("%s: no drawing", name)
		}
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Under random latencies (the first copy of a broadcast no longer comes
// along a shortest path) the trees still form and hold: every broadcast
// reaches every node, and from the third on without duplicates. The first
// costs what it costs with unit latency, whatever the latencies: every node
// forwards its first copy to all its eager peers but the sender before any
// PRUNE can reach it, so its RMR is the mean active degree less 2.
func TestLatencyModels(t *testing.T) {
	t.Parallel()
	for _, lat := range []Latency{MessageLatency, LinkLatency} {
		run, err := Stable(Config{Nodes: 400, Seed: 5, Protocol: Plumtree, Latency: lat}, Params{Stabilization: 20, Broadcasts: 15}, lat.String(), true)
		if err != nil {
			t.Fatal(err)
		}
		if m := run.Min(Delivery.Reliability); m != 100 {
			t.Errorf("%s latency: reliability down to %.2f%%", lat, m)
		}
		if rmr := run.Deliveries[0].RMR(); rmr < 2.9 || rmr > 3.1 {
			t.Errorf("%s latency: RMR of the first broadcast %.3f, want 3.0 (mean active degree 5, less 2)", lat, rmr)
		}
		for i, d := range run.Deliveries[2:] {
			if d.RMR() > 0.05 {
				t.Errorf("%s latency, broadcast %d: RMR %.3f > 0.05", lat, i+3, d.RMR())
			}
		}
	}
	run := func() string {
		r, err := Stable(Config{Nodes: 200, Seed: 9, Protocol: Plumtree, Latency: MessageLatency}, Params{Stabilization: 5, Broadcasts: 5}, "x", false)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(r.Deliveries)
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("same seed, different runs:\n%s\n%s", a, b)
	}
}
