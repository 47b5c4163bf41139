package bench

import (
	"context"
	"log/slog"
	"testing"
	"time"

	pa "github.com/asynkron/protoactor-go/actor"
	"github.com/gotp-dev/gotp/actor"
)

// discard is the logger handed to both runtimes so that neither writes to the
// terminal while it is being measured.
var discard = slog.New(slog.DiscardHandler)

func newGotpNode(tb testing.TB) *actor.Node {
	tb.Helper()
	n, err := actor.NewNode(actor.Config{Name: "bench@localhost", Logger: discard})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func stopGotpNode(tb testing.TB, n *actor.Node) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		tb.Fatal(err)
	}
}

// newProtoSystem starts a protoactor-go actor system whose logs go nowhere.
func newProtoSystem() *pa.ActorSystem {
	return pa.NewActorSystem(pa.WithLoggerFactory(func(*pa.ActorSystem) *slog.Logger { return discard }))
}

// perSecond turns a count done in the benchmark's measured time into a rate.
func perSecond(b *testing.B, count int) float64 {
	s := b.Elapsed().Seconds()
	if s == 0 {
		return 0
	}
	return float64(count) / s
}

// harness is one side of a comparison: run(n) does n units of work (round
// trips, calls or messages) and returns when all are done; stop releases what
// setup made.
type harness struct {
	run  func(n int)
	stop func()
}

// runHarness measures h with b.N units of work and reports the rate under
// unit (e.g. "msgs/s"); perOp is how many of those units one op counts.
func runHarness(b *testing.B, h harness, perOp int, unit string) {
	b.Helper()
	defer h.stop()
	b.ReportAllocs()
	b.ResetTimer()
	h.run(b.N)
	b.StopTimer()
	b.ReportMetric(perSecond(b, b.N*perOp), unit)
}

// stopProto stops the given actors, waits until they are gone and shuts the
// actor system down.
func stopProto(tb testing.TB, sys *pa.ActorSystem, pids ...*pa.PID) {
	tb.Helper()
	for _, pid := range pids {
		if err := sys.Root.StopFuture(pid).Wait(); err != nil {
			tb.Fatal(err)
		}
	}
	sys.Shutdown()
}
