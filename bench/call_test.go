package bench

import "testing"

// BenchmarkCall: a synchronous request/reply round trip to an echo server, one
// call per op; the sides are described in call.go.
func BenchmarkCall(b *testing.B) { runLeaves(b, callLeaves()) }
