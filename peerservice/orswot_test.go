package peerservice

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// Membership state stays the size of the membership however often a node
// leaves and joins again: removes leave no tombstones behind.
func TestStateSizeAfterJoinLeaveCycles(t *testing.T) {
	s := newSim(t, 3, FullMesh, 0)
	all := s.names()
	seed := s.cores[all[0]].self
	for _, n := range all[1:] {
		s.apply(n, s.cores[n].joined(seed, s.now))
	}
	s.run()
	size := func() (most int) {
		for _, n := range all {
			b, err := json.Marshal(s.cores[n].set.State())
			if err != nil {
				t.Fatal(err)
			}
			most = max(most, len(b))
		}
		return most
	}
	before := size()
	x := s.cores[all[2]]
	const cycles = 10000
	for range cycles {
		s.now = s.now.Add(time.Millisecond)
		s.apply(all[2], x.leave(s.now))
		s.run()
		s.apply(all[2], x.joined(seed, s.now))
		s.run()
	}
	for range 10 {
		s.now = s.now.Add(time.Second)
		for _, n := range all {
			s.apply(n, s.cores[n].heartbeatTick(s.now))
			s.apply(n, s.cores[n].gossipTick(s.now))
		}
		s.run()
	}
	for _, n := range all {
		if got := names(s.cores[n].members()); !slices.Equal(got, all) {
			t.Fatalf("%s sees %v after the cycles, want %v", n, got, all)
		}
	}
	after := size()
	t.Logf("largest state: %d bytes before, %d bytes after %d leave/join cycles", before, after, cycles)
	if after > 2*before {
		t.Fatalf("state grew from %d to %d bytes over %d leave/join cycles", before, after, cycles)
	}
}
