package bench

import "testing"

// BenchmarkFanIn: producers send b.N messages in all into one consumer, one
// message per op; the sides are described in fanin.go.
func BenchmarkFanIn(b *testing.B) { runLeaves(b, fanInLeaves()) }
