package bench

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkRemoteSend: one-way messages between two nodes in this OS
// process, one message per op; the sides are described in remote.go and
// raw.go.
func BenchmarkRemoteSend(b *testing.B) { runLeaves(b, remoteSendLeaves()) }

// BenchmarkRemoteCall: sequential calls to an echo server on the other node,
// with p50-ns and p99-ns; see remote.go.
func BenchmarkRemoteCall(b *testing.B) { runLeaves(b, remoteCallLeaves()) }

// TestRemoteBenchSmoke runs every remote harness with small counts, so that
// `go test` checks the remote benchmarks' code without running them.
func TestRemoteBenchSmoke(t *testing.T) {
	for _, s := range remoteSendSides {
		for _, p := range remotePairs {
			for _, size := range remotePayloads {
				t.Run(fmt.Sprintf("remotesend/%s/pairs=%d/payload=%d", s.name, p, size), func(t *testing.T) {
					h := s.setup(t, p, size)
					done := make(chan struct{})
					go func() {
						defer close(done)
						h.run(5000 + p - 1) // a count that does not split evenly
						h.run(5000)         // a harness must be reusable after a run
					}()
					select {
					case <-done:
					case <-time.After(time.Minute):
						t.Fatal("harness did not finish")
					}
					h.stop()
				})
			}
		}
	}
	for _, s := range remoteCallSides {
		t.Run("remotecall/"+s.name, func(t *testing.T) {
			c := s.setup(t)
			defer c.stop()
			durs := make([]time.Duration, 500)
			for i := range durs {
				t0 := time.Now()
				if err := c.call(); err != nil {
					t.Fatal(err)
				}
				durs[i] = time.Since(t0)
			}
			p50, p99 := percentiles(durs)
			t.Logf("p50 %v, p99 %v", p50, p99)
			if p50 <= 0 || p99 < p50 {
				t.Errorf("implausible percentiles p50 %v, p99 %v", p50, p99)
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	durs := make([]time.Duration, 100)
	for i := range durs {
		durs[i] = time.Duration(100 - i) // 100..1, unsorted
	}
	if p50, p99 := percentiles(durs); p50 != 50 || p99 != 99 {
		t.Errorf("percentiles of 1..100 = %v, %v; want 50, 99", p50, p99)
	}
	if p50, p99 := percentiles([]time.Duration{7}); p50 != 7 || p99 != 7 {
		t.Errorf("percentiles of [7] = %v, %v", p50, p99)
	}
}
