package bench

import "testing"

// BenchmarkPingPong: two processes bounce a message, one round trip per op;
// the sides are described in pingpong.go.
func BenchmarkPingPong(b *testing.B) { runLeaves(b, pingPongLeaves()) }
