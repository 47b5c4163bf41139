package sim

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Report holds the results of the three experiments.
type Report struct {
	Nodes  int
	Seed   uint64
	Params Params
	// Stable: eager gossip, Plumtree (one sender), Plumtree with the
	// optimization step (threshold 3, one sender), Plumtree with a random
	// sender per broadcast.
	Stable []Run
	// Churn: eager gossip and Plumtree.
	Churn []Run
	// Failure holds, per failure rate of FailureRates, Plumtree, eager
	// gossip, flooding (HyParView alone) and Plumtree with failures found
	// only by failed sends (Config.DetectOnSend).
	Failure [][]MassFailure
	Elapsed time.Duration
}

// FailureRates are the failure rates of experiment 3, in percent.
var FailureRates = []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 95}

// Run labels.
const (
	LabelEager     = "eager gossip"
	LabelPlumtree  = "plumtree"
	LabelOptimized = "plumtree optimized"
	LabelMulti     = "plumtree multi-sender"
	LabelFlood     = "hyparview flood"
	LabelOnSend    = "plumtree, detect on send"
)

// RunAll runs every experiment on networks of nodes nodes, jobs at a time
// (each job is one network; results do not depend on jobs). progress, if
// not nil, is called as jobs end.
func RunAll(nodes int, seed uint64, p Params, jobs int, progress func(string)) (Report, error) {
	p = p.withDefaults()
	start := time.Now()
	rep := Report{Nodes: nodes, Seed: seed, Params: p}
	base := Config{Nodes: nodes, Seed: seed, Latency: p.Latency, MaxLatency: p.MaxLatency}
	plum := base
	plum.Protocol = Plumtree
	opt := plum
	opt.Plumtree.OptimizationThreshold = 3
	flood := base
	flood.Protocol = Flood
	onSend := plum
	onSend.DetectOnSend = true

	rep.Stable = make([]Run, 4)
	rep.Churn = make([]Run, 2)
	rep.Failure = make([][]MassFailure, len(FailureRates))
	var tasks []func() error
	stable := []struct {
		cfg    Config
		label  string
		single bool
	}{{base, LabelEager, true}, {plum, LabelPlumtree, true}, {opt, LabelOptimized, true}, {plum, LabelMulti, false}}
	for i, st := range stable {
		tasks = append(tasks, func() (err error) {
			rep.Stable[i], err = Stable(st.cfg, p, st.label, st.single)
			return err
		})
	}
	for i, st := range []struct {
		cfg   Config
		label string
	}{{base, LabelEager}, {plum, LabelPlumtree}} {
		tasks = append(tasks, func() (err error) {
			rep.Churn[i], err = Churn(st.cfg, p, st.label)
			return err
		})
	}
	for i, pct := range FailureRates {
		rep.Failure[i] = make([]MassFailure, 4)
		for k, st := range []struct {
			cfg   Config
			label string
		}{{plum, LabelPlumtree}, {base, LabelEager}, {flood, LabelFlood}, {onSend, LabelOnSend}} {
			tasks = append(tasks, func() (err error) {
				rep.Failure[i][k], err = Failure(st.cfg, p, st.label, pct)
				return err
			})
		}
	}
	jobs = max(jobs, 1)
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
		next     = make(chan func() error)
	)
	for range jobs {
		wg.Go(func() {
			for task := range next {
				err := task()
				mu.Lock()
				done++
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if progress != nil {
					progress(fmt.Sprintf("%d/%d runs done (%v)", done, len(tasks), time.Since(start).Round(time.Second)))
				}
				mu.Unlock()
			}
		})
	}
	for _, t := range tasks {
		next <- t
	}
	close(next)
	wg.Wait()
	rep.Elapsed = time.Since(start)
	return rep, firstErr
}

func hops(d Delivery) float64 { return float64(d.LastHop) }

// Charts returns the report's plots by file name.
func (r Report) Charts() map[string]Chart {
	charts := map[string]Chart{}
	n := 30
	rmr := Chart{Title: "Stable network: RMR per broadcast", XLabel: "broadcast", YLabel: "RMR"}
	ldh := Chart{Title: "Stable network: last delivery hop", XLabel: "broadcast", YLabel: "LDH (hops)"}
	for _, run := range r.Stable {
		var x, y, l []float64
		for i, d := range run.Deliveries[:min(n, len(run.Deliveries))] {
			x = append(x, float64(i+1))
			y = append(y, d.RMR())
		}
		for i, d := range run.Deliveries {
			l = append(l, hops(d))
			_ = i
		}
		rmr.Series = append(rmr.Series, Series{Label: run.Label, X: x, Y: y})
		ldh.Series = append(ldh.Series, Series{Label: run.Label, X: seq(len(l)), Y: l})
	}
	rmr.Series = append(rmr.Series, Series{Label: "paper plumtree", X: []float64{1, 2, 3, 4, float64(n)}, Y: []float64{2.0, 0.9, 0.04, 0, 0}, Dashed: true})
	charts["stable-rmr.svg"] = rmr
	charts["stable-ldh.svg"] = ldh

	perCycle := r.Params.FailuresPerCycle
	if perCycle == 0 {
		perCycle = max(1, r.Nodes/200)
	}
	rel := Chart{Title: fmt.Sprintf("%d failures per cycle: reliability", perCycle), XLabel: "failure cycle", YLabel: "reliability (%)"}
	crmr := Chart{Title: fmt.Sprintf("%d failures per cycle: RMR", perCycle), XLabel: "failure cycle", YLabel: "RMR"}
	for _, run := range r.Churn {
		var y1, y2 []float64
		for _, d := range run.Deliveries {
			y1 = append(y1, d.Reliability())
			y2 = append(y2, d.RMR())
		}
		rel.Series = append(rel.Series, Series{Label: run.Label, X: seq(len(y1)), Y: y1})
		crmr.Series = append(crmr.Series, Series{Label: run.Label, X: seq(len(y2)), Y: y2})
	}
	charts["churn-reliability.svg"] = rel
	charts["churn-rmr.svg"] = crmr

	next := Chart{Title: "Mass failure: reliability of the first broadcast after", XLabel: "nodes failed (%)", YLabel: "reliability (%)"}
	heal := Chart{Title: "Mass failure: broadcasts until one reaches every survivor", XLabel: "nodes failed (%)", YLabel: "broadcasts"}
	if len(r.Failure) > 0 {
		for k := range r.Failure[0] {
			var x, y, hx, hy []float64
			for i, row := range r.Failure {
				x = append(x, float64(FailureRates[i]))
				y = append(y, row[k].Next())
				if h := row[k].HealedAfter(); h > 0 && row[k].Label != LabelFlood {
					hx = append(hx, float64(FailureRates[i]))
					hy = append(hy, float64(h))
				}
			}
			label := r.Failure[0][k].Label
			next.Series = append(next.Series, Series{Label: label, X: x, Y: y})
			if len(hx) > 0 {
				heal.Series = append(heal.Series, Series{Label: label, X: hx, Y: hy})
			}
		}
		var fx, fy []float64
		for i, row := range r.Failure {
			fx = append(fx, float64(FailureRates[i]))
			fy = append(fy, row[2].MeanReliability())
		}
		next.Series = append(next.Series, Series{Label: "flood, mean of 1000", X: fx, Y: fy})
	}
	next.Series = append(next.Series,
		Series{Label: "paper plumtree", X: []float64{10, 20, 30, 40, 50}, Y: []float64{100, 100, 99.8, 98.7, 95}, Dashed: true},
		Series{Label: "paper hyparview", X: []float64{10, 80, 90, 95}, Y: []float64{100, 100, 99.7, 90.9}, Dashed: true})
	charts["failure-reliability.svg"] = next
	charts["failure-healing.svg"] = heal

	recov := Chart{Title: "HyParView flooding after a mass failure, per message", XLabel: "message after the failure", YLabel: "reliability (%)"}
	for i, row := range r.Failure {
		if FailureRates[i] < 70 {
			continue
		}
		f := row[2]
		var y []float64
		for _, d := range f.Deliveries[:min(100, len(f.Deliveries))] {
			y = append(y, d.Reliability())
		}
		recov.Series = append(recov.Series, Series{Label: fmt.Sprintf("%d%% failed", FailureRates[i]), X: seq(len(y)), Y: y})
	}
	charts["failure-flood-recovery.svg"] = recov
	return charts
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

// Markdown renders the report's tables; imgDir is the plots' directory
// relative to the document.
func (r Report) Markdown(imgDir string) string {
	var b strings.Builder
	p := r.Params
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	flags := ""
	if p.Latency != UnitLatency {
		flags = fmt.Sprintf(" -latency %s -max-latency %d", p.Latency, Config{MaxLatency: p.MaxLatency}.withDefaults().MaxLatency)
	}
	w("_Generated by `go run ./plumtree/cmd/sim -nodes %d -seed %d%s` in %v._\n\n", r.Nodes, r.Seed, flags, r.Elapsed.Round(time.Second))
	w("## 1. Stable network\n\n")
	w("%d nodes, %d stabilization cycles, then %d cycles of one broadcast each. Steady state: broadcasts 11–%d.\n\n",
		r.Nodes, p.Stabilization, p.Broadcasts, p.Broadcasts)
	w("| run | RMR #1 | #2 | #3 | #4 | #5 | #6–10 | steady RMR | LDH (steady) | reliability (min) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, run := range r.Stable {
		w("| %s |", run.Label)
		for i := range 5 {
			if i < len(run.Deliveries) {
				w(" %.3f |", run.Deliveries[i].RMR())
			} else {
				w(" – |")
			}
		}
		w(" %.3f | %.3f | %.2f | %.2f%% |\n", run.Mean(5, 10, Delivery.RMR), run.Mean(10, len(run.Deliveries), Delivery.RMR),
			run.Mean(10, len(run.Deliveries), hops), run.Min(Delivery.Reliability))
	}
	w("| paper: eager | 3.0 | 3.0 | 3.0 | 3.0 | 3.0 | 3.0 | 3.0 | ≈9 | 100%% |\n")
	w("| paper: plumtree | 2.0 | 0.9 | 0.04 | 0 | 0 | 0 | 0 | 10 (optimized ≈8.3) | 100%% |\n\n")
	w("![RMR per broadcast](%s/stable-rmr.svg)\n\n![LDH per broadcast](%s/stable-ldh.svg)\n\n", imgDir, imgDir)

	perCycle := p.FailuresPerCycle
	if perCycle == 0 {
		perCycle = max(1, r.Nodes/200)
	}
	w("## 2. %d failures per cycle for %d cycles\n\n", perCycle, p.FailureCycles)
	w("After stabilization and %d warm-up broadcasts, each cycle fails %d random nodes and then broadcasts from node 0.\n\n", p.WarmUp, perCycle)
	w("| run | mean reliability | min reliability | mean RMR | max RMR | mean LDH |\n|---|---|---|---|---|---|\n")
	for _, run := range r.Churn {
		w("| %s | %.3f%% | %.3f%% | %.3f | %.3f | %.2f |\n", run.Label, run.Mean(0, len(run.Deliveries), Delivery.Reliability),
			run.Min(Delivery.Reliability), run.Mean(0, len(run.Deliveries), Delivery.RMR),
			-Run{Deliveries: run.Deliveries}.Min(func(d Delivery) float64 { return -d.RMR() }), run.Mean(0, len(run.Deliveries), hops))
	}
	w("| paper: plumtree | 100%% | | slightly above 0 | | |\n\n")
	w("![reliability under churn](%s/churn-reliability.svg)\n\n![RMR under churn](%s/churn-rmr.svg)\n\n", imgDir, imgDir)

	w("## 3. Simultaneous failure of 10–95%% of the nodes\n\n")
	w("After stabilization and %d warm-up broadcasts from node 0, a share of the nodes (never node 0) fails at once. "+
		"Plumtree and eager gossip: %d cycles of one broadcast from node 0 each. HyParView alone (flooding over the active views): "+
		"%d messages from random live nodes back to back, no membership round between them.\n\n", p.WarmUp, p.AfterFailure, p.FloodMessages)
	w("| failed | plumtree: next broadcast | plumtree: broadcasts to heal | plumtree, detect on send: next | … to heal | eager: next | eager: to heal | flood: first msg | flood: mean of %d | survivors' components | paper plumtree next | paper hyparview |\n", p.FloodMessages)
	w("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	paperPT := map[int]string{10: "100%", 20: "100%", 30: "99.8%", 40: "98.7%", 50: "95%"}
	paperHV := map[int]string{10: "100%", 20: "100%", 30: "100%", 40: "100%", 50: "100%", 60: "100%", 70: "100%", 80: "100%", 90: "99.7%", 95: "90.9%"}
	for i, row := range r.Failure {
		pct := FailureRates[i]
		pt, eg, fl, os := row[0], row[1], row[2], row[3]
		w("| %d%% | %.2f%% | %s | %.2f%% | %s | %.2f%% | %s | %.2f%% | %.2f%% | %d | %s | %s |\n", pct, pt.Next(), healed(pt), os.Next(), healed(os),
			eg.Next(), healed(eg), fl.Next(), fl.MeanReliability(), fl.Components, orDash(paperPT[pct]), orDash(paperHV[pct]))
	}
	w("\nPaper: Plumtree heals in at most 2 broadcasts up to 80%%.\n\n")
	w("![reliability after a mass failure](%s/failure-reliability.svg)\n\n![healing after a mass failure](%s/failure-healing.svg)\n\n![flooding per message](%s/failure-flood-recovery.svg)\n\n", imgDir, imgDir, imgDir)
	return b.String()
}

func healed(m MassFailure) string {
	if h := m.HealedAfter(); h > 0 {
		return fmt.Sprint(h)
	}
	return fmt.Sprintf("not in %d", len(m.Deliveries))
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
