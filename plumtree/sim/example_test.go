package sim_test

import (
	"fmt"

	"github.com/gotp-dev/gotp/plumtree/sim"
)

// Two hundred nodes on a HyParView overlay, Plumtree over it, broadcasts
// from node 0: the first builds the tree (a payload along every link of the
// overlay), the ones after it travel the tree alone, and every one reaches
// every node. Eager gossip over the same overlay pays its redundancy on
// every message.
func Example() {
	s, err := sim.New(sim.Config{Nodes: 200, Seed: 7, Protocol: sim.Plumtree})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Stabilize(10) // membership cycles: the views settle
	for range 3 {
		id, _ := s.Broadcast(0) // the broadcast, what follows, a lazy tick
		s.Membership()
		d := s.Measure(id)
		fmt.Printf("plumtree broadcast %d: reliability %.0f%%, RMR %.2f, LDH %d\n", d.ID, d.Reliability(), d.RMR(), d.LastHop)
	}

	// The same experiment as one call, for eager gossip of fanout 4.
	run, err := sim.Stable(sim.Config{Nodes: 200, Seed: 7}, sim.Params{Stabilization: 10, Broadcasts: 3}, "eager", true)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("eager: mean RMR %.2f, lowest reliability %.0f%%\n", run.Mean(0, 3, sim.Delivery.RMR), run.Min(sim.Delivery.Reliability))
	// Output:
	// plumtree broadcast 0: reliability 100%, RMR 3.03, LDH 5
	// plumtree broadcast 1: reliability 100%, RMR 0.00, LDH 5
	// plumtree broadcast 2: reliability 100%, RMR 0.00, LDH 5
	// eager: mean RMR 3.02, lowest reliability 100%
}
