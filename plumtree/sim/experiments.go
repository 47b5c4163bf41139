package sim

import (
	"fmt"
	"slices"
)

// Run is one protocol's series of broadcasts in an experiment.
type Run struct {
	// Label names the run ("eager", "plumtree", "plumtree optimized", ...).
	Label string
	// Deliveries holds one entry per broadcast, measured at the end of its
	// cycle (after the lazy tick and the membership round that follow it).
	Deliveries []Delivery
}

// Mean returns the mean of f over deliveries from..to-1 (clamped).
func (r Run) Mean(from, to int, f func(Delivery) float64) float64 {
	to = min(to, len(r.Deliveries))
	if from >= to {
		return 0
	}
	sum := 0.0
	for _, d := range r.Deliveries[from:to] {
		sum += f(d)
	}
	return sum / float64(to-from)
}

// Min returns the minimum of f over all deliveries.
func (r Run) Min(f func(Delivery) float64) float64 {
	if len(r.Deliveries) == 0 {
		return 0
	}
	m := f(r.Deliveries[0])
	for _, d := range r.Deliveries[1:] {
		m = min(m, f(d))
	}
	return m
}

// Params are the experiments' common parameters. The zero value is the
// papers': 50 stabilization cycles, then 200 cycles of one broadcast each
// (250 in all).
type Params struct {
	// Stabilization is the number of membership cycles before the first
	// broadcast. Default 50.
	Stabilization int
	// Broadcasts is the number of broadcast cycles of the stable
	// experiment. Default 200.
	Broadcasts int
	// FailureCycles and FailuresPerCycle shape the churn experiment.
	// Defaults 100 and 0.5% of the nodes (50 of 10,000).
	FailureCycles, FailuresPerCycle int
	// WarmUp is the number of broadcasts before the failures of the churn
	// and mass failure experiments, so that Plumtree's tree has formed.
	// Default 10.
	WarmUp int
	// AfterFailure is the number of broadcast cycles measured after a mass
	// failure. Default 10.
	AfterFailure int
	// FloodMessages is the number of messages flooded back to back after a
	// mass failure for the HyParView-alone figure. Default 1,000.
	FloodMessages int
	// Latency and MaxLatency are the latency model of every run of RunAll
	// (Config.Latency and Config.MaxLatency); the zero value is one time
	// unit per message.
	Latency    Latency
	MaxLatency int
}

func (p Params) withDefaults() Params {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.Stabilization, 50)
	def(&p.Broadcasts, 200)
	def(&p.FailureCycles, 100)
	def(&p.WarmUp, 10)
	def(&p.AfterFailure, 10)
	def(&p.FloodMessages, 1000)
	return p
}

// cycle is one broadcast cycle: a broadcast from root (a random live node
// for -1), its lazy tick, a membership round, then the measurement.
func (s *Sim) broadcastCycle(root int) (Delivery, error) {
	if root < 0 || !s.IsAlive(root) {
		root = s.RandomAlive(1)[0]
	}
	id, err := s.Broadcast(root)
	if err != nil {
		return Delivery{}, err
	}
	s.Membership()
	return s.Measure(id), nil
}

// Stable is experiment 1: a stable network, Params.Broadcasts broadcasts
// after Params.Stabilization cycles, from node 0 when singleSender, else
// each from a random node.
func Stable(cfg Config, p Params, label string, singleSender bool) (Run, error) {
	p = p.withDefaults()
	s, err := New(cfg)
	if err != nil {
		return Run{}, err
	}
	s.Stabilize(p.Stabilization)
	run := Run{Label: label}
	root := -1
	if singleSender {
		root = 0
	}
	for range p.Broadcasts {
		d, err := s.broadcastCycle(root)
		if err != nil {
			return Run{}, err
		}
		run.Deliveries = append(run.Deliveries, d)
	}
	return run, nil
}

// Churn is experiment 2: after stabilization and WarmUp broadcasts from
// node 0, FailureCycles cycles each fail FailuresPerCycle random nodes
// (never node 0) and then broadcast from node 0. Only the cycles with
// failures are in the result.
func Churn(cfg Config, p Params, label string) (Run, error) {
	p = p.withDefaults()
	s, err := New(cfg)
	if err != nil {
		return Run{}, err
	}
	s.Stabilize(p.Stabilization)
	for range p.WarmUp {
		if _, err := s.broadcastCycle(0); err != nil {
			return Run{}, err
		}
	}
	run := Run{Label: label}
	perCycle := p.FailuresPerCycle
	if perCycle == 0 {
		perCycle = max(1, s.Nodes()/200)
	}
	for range p.FailureCycles {
		s.Kill(s.RandomAlive(perCycle, 0))
		d, err := s.broadcastCycle(0)
		if err != nil {
			return Run{}, err
		}
		run.Deliveries = append(run.Deliveries, d)
	}
	return run, nil
}

// MassFailure is the result of experiment 3 at one failure rate.
type MassFailure struct {
	// Percent of the nodes failed at once.
	Percent int
	// Label names the protocol.
	Label string
	// Deliveries of the broadcast cycles after the failure (Plumtree and
	// eager gossip), or of the messages flooded back to back (Flood).
	Deliveries []Delivery
	// Components of the survivors' active graph after the last of them.
	Components int
}

// Next is the reliability of the first broadcast after the failure.
func (m MassFailure) Next() float64 {
	if len(m.Deliveries) == 0 {
		return 0
	}
	return m.Deliveries[0].Reliability()
}

// MeanReliability is the mean reliability over all deliveries.
func (m MassFailure) MeanReliability() float64 {
	return Run{Deliveries: m.Deliveries}.Mean(0, len(m.Deliveries), Delivery.Reliability)
}

// HealedAfter is the number of broadcasts until one reached every live
// node (1: the first did), or -1 if none did. With a survivor cut off from
// all others no broadcast can; Components tells.
func (m MassFailure) HealedAfter() int {
	i := slices.IndexFunc(m.Deliveries, func(d Delivery) bool { return d.Delivered == d.Alive })
	if i < 0 {
		return -1
	}
	return i + 1
}

// Failure is experiment 3 at one rate: after stabilization and WarmUp
// broadcasts from node 0, percent of the nodes (never node 0) fail at once.
// With Flood, FloodMessages messages from random live nodes follow back to
// back, with no membership round between them (the HyParView paper's
// setting); otherwise AfterFailure broadcast cycles from node 0.
func Failure(cfg Config, p Params, label string, percent int) (MassFailure, error) {
	p = p.withDefaults()
	if percent < 0 || percent >= 100 {
		return MassFailure{}, fmt.Errorf("sim: failure percent %d out of [0,100)", percent)
	}
	s, err := New(cfg)
	if err != nil {
		return MassFailure{}, err
	}
	s.Stabilize(p.Stabilization)
	for range p.WarmUp {
		if _, err := s.broadcastCycle(0); err != nil {
			return MassFailure{}, err
		}
	}
	s.Kill(s.RandomAlive(s.Nodes()*percent/100, 0))
	res := MassFailure{Percent: percent, Label: label}
	if s.cfg.Protocol == Flood {
		for range p.FloodMessages {
			id, err := s.Broadcast(s.RandomAlive(1)[0])
			if err != nil {
				return MassFailure{}, err
			}
			res.Deliveries = append(res.Deliveries, s.Measure(id))
		}
	} else {
		for range p.AfterFailure {
			d, err := s.broadcastCycle(0)
			if err != nil {
				return MassFailure{}, err
			}
			res.Deliveries = append(res.Deliveries, d)
		}
	}
	res.Components = s.Components()
	return res, nil
}
