package bench

import (
	"math/rand/v2"
	"testing"

	"github.com/gotp-dev/gotp/peerservice/hyparview"
	"github.com/gotp-dev/gotp/plumtree/sim"
)

// BenchmarkHyParViewCoreShuffle measures the core's cost of handling one
// SHUFFLE at the end of its walk (the most frequent membership message),
// with full views.
func BenchmarkHyParViewCoreShuffle(b *testing.B) {
	c, err := hyparview.NewCore[int32](1, hyparview.Config{}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	for i := int32(2); i < 100; i++ {
		c.Handle(i, hyparview.ShuffleReply[int32]{Nodes: []int32{i + 1000}})
	}
	nodes := []int32{5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Handle(int32(10_000+i%1000), hyparview.Shuffle[int32]{Origin: int32(20_000 + i%1000), TTL: 1, Nodes: nodes})
	}
}

// BenchmarkSimMembershipCycle measures one membership cycle (every node
// shuffles and ticks) of a stabilized 10,000-node overlay in the simulator.
func BenchmarkSimMembershipCycle(b *testing.B) {
	s, err := sim.New(sim.Config{Nodes: 10_000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	s.Stabilize(10)
	b.ReportAllocs()
	for b.Loop() {
		s.Membership()
	}
	b.ReportMetric(float64(s.Nodes()), "nodes")
}

// BenchmarkSimPlumtreeBroadcast measures one Plumtree broadcast over a
// stabilized 10,000-node overlay (after the tree formed), with its lazy
// tick, and reports its RMR and LDH.
func BenchmarkSimPlumtreeBroadcast(b *testing.B) {
	s, err := sim.New(sim.Config{Nodes: 10_000, Seed: 1, Protocol: sim.Plumtree})
	if err != nil {
		b.Fatal(err)
	}
	s.Stabilize(10)
	for range 3 {
		if _, err := s.Broadcast(0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	var last sim.Delivery
	for b.Loop() {
		id, err := s.Broadcast(0)
		if err != nil {
			b.Fatal(err)
		}
		last = s.Measure(id)
	}
	b.ReportMetric(last.RMR(), "rmr")
	b.ReportMetric(float64(last.LastHop), "ldh")
	b.ReportMetric(last.Reliability(), "reliability%")
}
