package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// crashWorker is a child that tells started each time it starts and panics
// on "crash".
type crashWorker struct{ started chan<- actor.PID }

func (w *crashWorker) Init(p *actor.Process) error {
	w.started <- p.Self()
	return nil
}

func (w *crashWorker) Receive(p *actor.Process, msg any) error {
	if msg == "crash" {
		return errors.New("crash")
	}
	return nil
}

// restartHarness runs a one_for_one supervisor with one permanent worker;
// one unit of work crashes the worker and waits until its replacement has
// started.
func restartHarness(tb testing.TB) harness {
	n := newGotpNode(tb)
	started := make(chan actor.PID, 1)
	spec := supervisor.Spec{
		Strategy:  supervisor.OneForOne,
		Intensity: 1 << 30,
		Period:    time.Second,
		Children: []supervisor.ChildSpec{
			supervisor.BehaviorWorker("w", func() actor.Behavior { return &crashWorker{started: started} }),
		},
	}
	if _, err := supervisor.Start(n, spec); err != nil {
		tb.Fatal(err)
	}
	pid := <-started
	return harness{
		run: func(count int) {
			for range count {
				if err := n.Send(pid, "crash"); err != nil {
					tb.Fatal(err)
				}
				pid = <-started
			}
		},
		stop: func() { stopGotpNode(tb, n) },
	}
}

// BenchmarkSupervisorRestart: latency from a crash of a supervised worker to
// its replacement having run Init.
func BenchmarkSupervisorRestart(b *testing.B) {
	runHarness(b, restartHarness(b), 1, "restarts/s")
}

// startManyChildren starts a simple_one_for_one supervisor and count children
// under it, and returns the node to stop.
func startManyChildren(tb testing.TB, count int) *actor.Node {
	n := newGotpNode(tb)
	idle := actor.Func(func(*actor.Process, any) error { return nil })
	sup, err := supervisor.Start(n, supervisor.Spec{
		Strategy: supervisor.SimpleOneForOne,
		Children: []supervisor.ChildSpec{{
			ID: "idle",
			Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
				return p.Spawn(idle, actor.WithLink())
			},
		}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for range count {
		if _, err := supervisor.StartChildArgs(ctx, n, sup); err != nil {
			tb.Fatal(err)
		}
	}
	return n
}

// BenchmarkSupervisorStart10k: start a simple_one_for_one supervisor and 10k
// children through StartChildArgs (the node's shutdown is not timed).
func BenchmarkSupervisorStart10k(b *testing.B) {
	const children = 10_000
	b.ReportAllocs()
	for b.Loop() {
		n := startManyChildren(b, children)
		b.StopTimer()
		stopGotpNode(b, n)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*children), "ns/child")
}

func TestSupervisorBenchSmoke(t *testing.T) {
	h := restartHarness(t)
	h.run(20)
	h.stop()
	stopGotpNode(t, startManyChildren(t, 200))
}
