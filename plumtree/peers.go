package plumtree

import (
	"math"
	"math/rand/v2"
	"slices"
)

// InitPeers returns the initial eager and lazy peers of self among members,
// by riak_core_broadcast's rule:
//
//	1 member       no peers
//	2 members      the other one eager, no lazy peer
//	3–4 members    an eager tree of fanout 1 (with cycles), one random lazy peer
//	5–9 members    fanout 2, one random lazy peer
//	≥10 members    fanout round(ln N + 1), one random lazy peer
//
// The tree is built over the sorted member list the same way on every
// node (node i pushes to the next fanout nodes after position i·fanout,
// wrapping around), so together the nodes' eager sets cover the cluster with
// few cycles and a first broadcast costs about fanout·N payloads rather than
// N². rng picks the lazy peer; members need not be sorted and self is added
// if missing.
func InitPeers(self string, members []string, rng *rand.Rand) (eagers, lazys []string) {
	all := sortedSet(append(slices.Clone(members), self))
	n := len(all)
	var fanout int
	switch {
	case n <= 1:
		return nil, nil
	case n == 2:
		return removeSorted(all, self), nil
	case n < 5:
		fanout = 1
	case n < 10:
		fanout = 2
	default:
		fanout = int(math.Round(math.Log(float64(n)) + 1))
	}
	i, _ := slices.BinarySearch(all, self)
	for k := range fanout {
		peer := all[(1+i*fanout+k)%n]
		if peer != self {
			eagers = addSorted(eagers, peer)
		}
	}
	var candidates []string
	for _, m := range all {
		if m != self && !containsSorted(eagers, m) {
			candidates = append(candidates, m)
		}
	}
	if len(candidates) > 0 {
		lazys = []string{candidates[rng.IntN(len(candidates))]}
	}
	return eagers, lazys
}

// sortedSet returns s sorted without duplicates (in place).
func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func containsSorted(s []string, x string) bool {
	_, ok := slices.BinarySearch(s, x)
	return ok
}

// addSorted returns a new sorted set holding s and x; s is not modified.
func addSorted(s []string, x string) []string {
	i, ok := slices.BinarySearch(s, x)
	if ok {
		return s
	}
	out := make([]string, 0, len(s)+1)
	out = append(out, s[:i]...)
	out = append(out, x)
	return append(out, s[i:]...)
}

// removeSorted returns a new sorted set holding s without x; s is not
// modified.
func removeSorted(s []string, x string) []string {
	i, ok := slices.BinarySearch(s, x)
	if !ok {
		return s
	}
	out := make([]string, 0, len(s)-1)
	out = append(out, s[:i]...)
	return append(out, s[i+1:]...)
}

// subtractSorted returns the elements of a not in b (both sorted).
func subtractSorted(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !containsSorted(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// unionSorted returns the sorted union of a and b.
func unionSorted(a, b []string) []string {
	return sortedSet(append(slices.Clone(a), b...))
}
