package bench

import "testing"

// BenchmarkSpawnIdle: spawning n idle processes per op, with per-process
// metrics; the sides are described in spawn.go.
func BenchmarkSpawnIdle(b *testing.B) { runLeaves(b, spawnIdleLeaves()) }
