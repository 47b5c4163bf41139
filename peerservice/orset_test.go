package peerservice

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/gotp-dev/gotp/remote"
)

func spec(name string) remote.NodeSpec { return remote.NodeSpec{Name: name, Addrs: []string{name}} }

func names(specs []remote.NodeSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// randomReplica applies random adds and removes to a fresh replica.
func randomReplica(rng *rand.Rand, actor string, ops int) *ORSet {
	s := NewORSet(actor)
	for range ops {
		n := fmt.Sprintf("n%d", rng.IntN(6))
		if rng.IntN(3) == 0 {
			s.Remove(n)
		} else {
			s.Add(spec(n))
		}
	}
	return s
}

func merged(states ...State) State {
	s := NewORSet("merger")
	for _, st := range states {
		s.Merge(st)
	}
	return s.State()
}

func TestORSetMergeLaws(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		a := randomReplica(rng, "a", 10).State()
		b := randomReplica(rng, "b", 10).State()
		c := randomReplica(rng, "c", 10).State()
		// Replicas that saw each other's state and then changed more.
		ab := NewORSet("d")
		ab.Merge(a)
		ab.Remove(fmt.Sprintf("n%d", rng.IntN(6)))
		ab.Add(spec(fmt.Sprintf("n%d", rng.IntN(6))))
		d := ab.State()

		if got, want := merged(a, b), merged(b, a); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: merge not commutative", i)
		}
		if got, want := merged(merged(a, b), c), merged(a, merged(b, c)); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: merge not associative", i)
		}
		if got, want := merged(a, a), merged(a); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: merge not idempotent", i)
		}
		if got, want := merged(a, d, b), merged(d, b, a, d); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: merge order matters with causally related states", i)
		}
	}
}

func TestORSetSemantics(t *testing.T) {
	tests := []struct {
		name string
		run  func() []string
		want []string
	}{
		{"add", func() []string {
			s := NewORSet("a")
			s.Add(spec("x"))
			return names(s.Members())
		}, []string{"x"}},
		{"remove then re-add", func() []string {
			s := NewORSet("a")
			s.Add(spec("x"))
			s.Remove("x")
			s.Add(spec("x"))
			return names(s.Members())
		}, []string{"x"}},
		{"re-add after a remove another replica saw", func() []string {
			a, b := NewORSet("a"), NewORSet("b")
			a.Add(spec("x"))
			b.Merge(a.State())
			b.Remove("x") // x left
			a.Merge(b.State())
			a.Add(spec("x")) // x joined again, under a new dot
			b.Merge(a.State())
			return names(b.Members())
		}, []string{"x"}},
		{"stale state does not undo a remove", func() []string {
			a, b := NewORSet("a"), NewORSet("b")
			a.Add(spec("x"))
			old := a.State()
			b.Merge(old)
			b.Remove("x")
			b.Merge(old)
			return names(b.Members())
		}, []string{}},
		{"concurrent add and remove: add wins", func() []string {
			a, b := NewORSet("a"), NewORSet("b")
			a.Add(spec("x"))
			b.Merge(a.State())
			b.Remove("x")
			a.Add(spec("x")) // concurrent with b's remove
			a.Merge(b.State())
			b.Merge(a.State())
			if !reflect.DeepEqual(a.State(), b.State()) {
				return []string{"diverged"}
			}
			return names(a.Members())
		}, []string{"x"}},
		{"remove of an unobserved add does nothing", func() []string {
			a, b := NewORSet("a"), NewORSet("b")
			b.Remove("x")
			a.Add(spec("x"))
			a.Merge(b.State())
			return names(a.Members())
		}, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.run(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("members = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestORSetDigest(t *testing.T) {
	a, b := NewORSet("a"), NewORSet("b")
	a.Add(spec("x"))
	b.Add(spec("y"))
	if a.Digest() == b.Digest() {
		t.Fatal("different states, same digest")
	}
	a.Merge(b.State())
	b.Merge(a.State())
	if a.Digest() != b.Digest() {
		t.Fatal("equal states, different digests")
	}
}

func TestORSetConcurrentSpecsPickOneWinner(t *testing.T) {
	a, b := NewORSet("a"), NewORSet("b")
	a.Add(remote.NodeSpec{Name: "x", Addrs: []string{"old"}})
	b.Add(remote.NodeSpec{Name: "x", Addrs: []string{"new"}})
	a.Merge(b.State())
	b.Merge(a.State())
	if !reflect.DeepEqual(a.Members(), b.Members()) || len(a.Members()) != 1 {
		t.Fatalf("replicas disagree: %v vs %v", a.Members(), b.Members())
	}
}
