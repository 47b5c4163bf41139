package bench

import (
	"fmt"
	"slices"
	"testing"
)

// Leaf is one leaf workload of the side-by-side table: a benchmark that go
// test runs as a sub-benchmark and that a plain program can run with
// testing.Benchmark.
type Leaf struct {
	// Name is the benchmark's full name without its "Benchmark" prefix, as
	// go test prints it: "RemoteSend/gotp/pairs=1/payload=64".
	Name string
	// Run measures b.N units of the workload and reports its metrics.
	Run func(b *testing.B)
}

// Leaves returns every leaf workload of BenchmarkRemoteSend,
// BenchmarkRemoteCall, BenchmarkTwoProcesses, BenchmarkCall, BenchmarkFanIn,
// BenchmarkPingPong and BenchmarkSpawnIdle, in the order go test runs them.
// Those benchmarks run exactly these leaves, so the names cannot drift apart.
func Leaves() []Leaf {
	return slices.Concat(remoteSendLeaves(), remoteCallLeaves(), twoProcessLeaves(),
		callLeaves(), fanInLeaves(), pingPongLeaves(), spawnIdleLeaves())
}

// side is one runtime's setup for a workload: raw, gotp or protoactor.
type side[S any] struct {
	name  string
	setup S
}

// The sides of each workload, in the order the benchmarks run them. The smoke
// tests run every one of them.
var (
	remoteSendSides = []side[func(tb testing.TB, pairs, payload int) harness]{
		{"raw", rawRemoteSend},
		{"gotp", gotpRemoteSend},
		{"protoactor", protoRemoteSend},
	}
	remoteCallSides = []side[func(testing.TB) remoteCaller]{
		{"raw", rawRemoteCall},
		{"gotp", gotpRemoteCall},
		{"protoactor", protoRemoteCall},
	}
	twoProcessSendSides = []side[func(tb testing.TB, payload int) harness]{
		{"raw", rawTwoProcessSend},
		{"gotp", gotpTwoProcessSend},
	}
	twoProcessCallSides = []side[func(testing.TB) remoteCaller]{
		{"raw", rawTwoProcessCall},
		{"gotp", gotpTwoProcessCall},
	}
	callSides = []side[func(testing.TB) harness]{
		{"gotp_from_goroutine", gotpCallFromGoroutine},
		{"gotp_from_process", gotpCallFromProcess},
		{"protoactor_requestfuture", protoRequestFuture},
		{"chan_roundtrip", chanRoundTrip},
	}
	fanInSides = []side[func(tb testing.TB, producers int) harness]{
		{"gotp", gotpFanIn},
		{"chan", chanFanIn},
		{"protoactor", protoFanIn},
	}
	pingPongSides = []side[func(testing.TB) harness]{
		{"gotp", gotpPingPong},
		{"chan", chanPingPong},
		{"protoactor", protoPingPong},
	}
	spawnIdleSides = []side[func(tb testing.TB, n int) idleSpawner]{
		{"gotp", gotpIdle},
		{"protoactor", protoIdle},
	}
)

func remoteSendLeaves() []Leaf {
	var leaves []Leaf
	for _, s := range remoteSendSides {
		for _, p := range remotePairs {
			for _, size := range remotePayloads {
				leaves = append(leaves, Leaf{
					Name: fmt.Sprintf("RemoteSend/%s/pairs=%d/payload=%d", s.name, p, size),
					Run:  func(b *testing.B) { runHarness(b, s.setup(b, p, size), 1, "msgs/s") },
				})
			}
		}
	}
	return leaves
}

func remoteCallLeaves() []Leaf {
	var leaves []Leaf
	for _, s := range remoteCallSides {
		leaves = append(leaves, Leaf{
			Name: "RemoteCall/" + s.name,
			Run:  func(b *testing.B) { runRemoteCall(b, s.setup(b)) },
		})
	}
	return leaves
}

func twoProcessLeaves() []Leaf {
	var leaves []Leaf
	for _, size := range remotePayloads {
		for _, s := range twoProcessSendSides {
			leaves = append(leaves, Leaf{
				Name: fmt.Sprintf("TwoProcesses/send/%s/payload=%d", s.name, size),
				Run:  func(b *testing.B) { runHarness(b, s.setup(b, size), 1, "msgs/s") },
			})
		}
	}
	for _, s := range twoProcessCallSides {
		leaves = append(leaves, Leaf{
			Name: "TwoProcesses/call/" + s.name,
			Run:  func(b *testing.B) { runRemoteCall(b, s.setup(b)) },
		})
	}
	return leaves
}

func callLeaves() []Leaf {
	var leaves []Leaf
	for _, s := range callSides {
		leaves = append(leaves, Leaf{
			Name: "Call/" + s.name,
			Run:  func(b *testing.B) { runHarness(b, s.setup(b), 1, "calls/s") },
		})
	}
	return leaves
}

func fanInLeaves() []Leaf {
	var leaves []Leaf
	for _, s := range fanInSides {
		for _, p := range fanInProducers {
			leaves = append(leaves, Leaf{
				Name: fmt.Sprintf("FanIn/%s/producers=%d", s.name, p),
				Run:  func(b *testing.B) { runHarness(b, s.setup(b, p), 1, "msgs/s") },
			})
		}
	}
	return leaves
}

func pingPongLeaves() []Leaf {
	var leaves []Leaf
	for _, s := range pingPongSides {
		leaves = append(leaves, Leaf{
			Name: "PingPong/" + s.name,
			Run:  func(b *testing.B) { runHarness(b, s.setup(b), 2, "msgs/s") },
		})
	}
	return leaves
}

func spawnIdleLeaves() []Leaf {
	var leaves []Leaf
	for _, s := range spawnIdleSides {
		for _, n := range spawnCounts {
			leaves = append(leaves, Leaf{
				Name: fmt.Sprintf("SpawnIdle/%s/n=%d", s.name, n),
				Run:  func(b *testing.B) { runSpawnIdle(b, s.setup, n) },
			})
		}
	}
	return leaves
}
