// Package sim is a deterministic, seeded, cycle-based simulator of a
// HyParView overlay and a broadcast protocol over it, for tens of thousands
// of nodes in one process. It drives the same pure cores as production —
// hyparview.Core for the overlay and plumtree.Core for the broadcast trees
// — and reproduces the experiments of Leitão, Pereira and Rodrigues, 2007
// ("Epidemic Broadcast Trees" and "HyParView"): a stable network, steady
// churn, and the simultaneous failure of most nodes.
//
// # The model
//
// Nodes join one after the other, each through a random node already in
// the overlay, then run membership cycles (every node shuffles and ticks
// its HyParView core). By default messages travel through one FIFO queue,
// so each takes one time unit and the first copy of a broadcast reaches a
// node along a shortest path of the overlay; Config.Latency draws random
// latencies instead, per message or per link, seeded like everything else.
// A send to a failed node fails and the sender's HyParView core is told;
// by default a failed node's active peers also notice at once, as TCP
// peers of a crashed process do (Config.DetectOnSend turns that off).
//
// A broadcast cycle is: the broadcast and everything it causes; for
// Plumtree one lazy tick on every node (the IHaves of the cycle, the grafts
// of what is missing) and what it causes; a membership cycle; then the
// measurement. The figures are the papers':
//
//	reliability   the share of live nodes that delivered the message
//	RMR           m/(n-1) - 1: m payload messages received, n nodes reached
//	LDH           the largest hop count at which a node first received it
//
// The broadcast protocols: Eager (push to Fanout random active peers other
// than the sender), Flood (push to every active peer but the sender: the
// HyParView paper's dissemination) and Plumtree (plumtree.Core with the
// active view as its members, every active peer eager at first).
//
// # Use
//
//	run, err := sim.Stable(sim.Config{Nodes: 10_000, Protocol: sim.Plumtree}, sim.Params{}, "plumtree", true)
//	fmt.Println(run.Deliveries[2].RMR())
//
// RunAll runs the three experiments and Report renders their tables as
// markdown and their plots as SVG; the command plumtree/cmd/sim writes them
// to docs/plumtree-experiments.md and docs/img.
package sim
