package main

import (
	"strings"
	"testing"

	"github.com/gotp-dev/gotp/bench"
)

// TestRowsNameLeaves checks that every side of the table names a leaf the
// plain binary runs, so that both binaries measure the same workload.
func TestRowsNameLeaves(t *testing.T) {
	leaves := map[string]bool{}
	for _, l := range bench.Leaves() {
		leaves[l.Name] = true
	}
	for _, r := range rows {
		for _, s := range r.sides {
			if !leaves[s.leaf] {
				t.Errorf("row %q, side %s: no leaf %q", r.name, s.label, s.leaf)
			}
		}
	}
}

func TestPattern(t *testing.T) {
	got := pattern("RemoteSend/gotp/pairs=1/payload=64")
	if want := "^BenchmarkRemoteSend$/^gotp$/^pairs=1$/^payload=64$"; got != want {
		t.Errorf("pattern = %q, want %q", got, want)
	}
}

func TestParse(t *testing.T) {
	out := `goos: linux
BenchmarkRemoteCall/gotp-2   	   20000	     41000 ns/op	     25000 calls/s	     30000 p50-ns	     90000 p99-ns	     512 B/op	       9 allocs/op
PASS
`
	m, found := parse(strings.NewReader(out))
	if !found {
		t.Fatal("no result line found")
	}
	for unit, want := range map[string]float64{"ns/op": 41000, "calls/s": 25000, "p50-ns": 30000, "p99-ns": 90000, "B/op": 512, "allocs/op": 9} {
		if m[unit] != want {
			t.Errorf("%s = %v, want %v", unit, m[unit], want)
		}
	}
	if _, found := parse(strings.NewReader("PASS\n")); found {
		t.Error("found a result in output without one")
	}
}
