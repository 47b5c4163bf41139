package peerservice

import (
	"cmp"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"

	"github.com/gotp-dev/gotp/remote"
)

// Dot names one add: the actor (a node incarnation) that made it and that
// actor's counter. Dots are never reused, so a node that leaves and joins
// again is added under a new dot that no earlier remove has seen.
type Dot struct {
	Actor   string
	Counter uint64
}

func compareDots(a, b Dot) int {
	if c := cmp.Compare(a.Actor, b.Actor); c != 0 {
		return c
	}
	return cmp.Compare(a.Counter, b.Counter)
}

// Entry is one add in a membership State.
type Entry struct {
	Dot  Dot
	Spec remote.NodeSpec
}

// State is a membership set as it travels and is stored: every add not yet
// removed, and every removed dot (tombstones), both sorted.
type State struct {
	Adds    []Entry
	Removed []Dot
}

// ORSet is an observed-remove set of node specs keyed by node name: a
// state-based CRDT. Add creates a new dot; Remove tombstones the dots it has
// observed; Merge takes the union of adds and of tombstones. Merge is
// commutative, associative and idempotent, and an add concurrent with a
// remove survives it (add wins). It is not safe for concurrent use.
type ORSet struct {
	actor   string
	clock   uint64
	adds    map[Dot]remote.NodeSpec
	removed map[Dot]struct{}
	digest  uint64
	dirty   bool
}

// NewORSet returns an empty set whose adds are made by actor, which must be
// unique to this incarnation of the node.
func NewORSet(actor string) *ORSet {
	return &ORSet{actor: actor, adds: map[Dot]remote.NodeSpec{}, removed: map[Dot]struct{}{}, dirty: true}
}

// Add puts spec in the set under a new dot, replacing the spec of any add of
// the same name this replica has observed.
func (s *ORSet) Add(spec remote.NodeSpec) Dot {
	s.Remove(spec.Name)
	s.clock++
	d := Dot{Actor: s.actor, Counter: s.clock}
	s.adds[d] = cloneSpec(spec)
	s.dirty = true
	return d
}

// Remove tombstones every observed add of name. It reports whether there was
// one.
func (s *ORSet) Remove(name string) bool {
	found := false
	for d, spec := range s.adds {
		if spec.Name == name {
			delete(s.adds, d)
			s.removed[d] = struct{}{}
			found = true
		}
	}
	if found {
		s.dirty = true
	}
	return found
}

// Merge folds another replica's state into this one and reports whether
// anything changed.
func (s *ORSet) Merge(o State) bool {
	changed := false
	for _, d := range o.Removed {
		if _, ok := s.removed[d]; !ok {
			s.removed[d] = struct{}{}
			delete(s.adds, d)
			changed = true
		}
	}
	for _, e := range o.Adds {
		if _, gone := s.removed[e.Dot]; gone {
			continue
		}
		if _, ok := s.adds[e.Dot]; !ok {
			s.adds[e.Dot] = cloneSpec(e.Spec)
			changed = true
		}
		if e.Dot.Actor == s.actor && e.Dot.Counter > s.clock {
			s.clock = e.Dot.Counter
		}
	}
	if changed {
		s.dirty = true
	}
	return changed
}

// Contains reports whether name is in the set.
func (s *ORSet) Contains(name string) bool {
	for _, spec := range s.adds {
		if spec.Name == name {
			return true
		}
	}
	return false
}

// Members returns the specs in the set, sorted by name. When concurrent adds
// left several specs for one name, the one with the greatest dot wins, the
// same on every replica.
func (s *ORSet) Members() []remote.NodeSpec {
	best := map[string]Dot{}
	for d, spec := range s.adds {
		if b, ok := best[spec.Name]; !ok || compareDots(d, b) > 0 {
			best[spec.Name] = d
		}
	}
	out := make([]remote.NodeSpec, 0, len(best))
	for _, d := range best {
		out = append(out, cloneSpec(s.adds[d]))
	}
	slices.SortFunc(out, func(a, b remote.NodeSpec) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Lookup returns the spec of name.
func (s *ORSet) Lookup(name string) (remote.NodeSpec, bool) {
	var best Dot
	var spec remote.NodeSpec
	found := false
	for d, sp := range s.adds {
		if sp.Name == name && (!found || compareDots(d, best) > 0) {
			best, spec, found = d, sp, true
		}
	}
	return spec, found
}

// State returns a copy of the set's state, sorted, for gossip and storage.
func (s *ORSet) State() State {
	st := State{Adds: make([]Entry, 0, len(s.adds)), Removed: slices.Collect(maps.Keys(s.removed))}
	for d, spec := range s.adds {
		st.Adds = append(st.Adds, Entry{Dot: d, Spec: cloneSpec(spec)})
	}
	slices.SortFunc(st.Adds, func(a, b Entry) int { return compareDots(a.Dot, b.Dot) })
	slices.SortFunc(st.Removed, compareDots)
	return st
}

// Digest is a hash of the state: two replicas with the same digest hold the
// same state (barring hash collisions), so they need not exchange it.
func (s *ORSet) Digest() uint64 {
	if !s.dirty {
		return s.digest
	}
	h := fnv.New64a()
	st := s.State()
	for _, e := range st.Adds {
		h.Write([]byte(e.Dot.Actor))
		h.Write([]byte(strconv.FormatUint(e.Dot.Counter, 10)))
		h.Write([]byte(e.Spec.Name))
		for _, a := range e.Spec.Addrs {
			h.Write([]byte(a))
		}
		h.Write([]byte{0})
	}
	h.Write([]byte{1})
	for _, d := range st.Removed {
		h.Write([]byte(d.Actor))
		h.Write([]byte(strconv.FormatUint(d.Counter, 10)))
		h.Write([]byte{0})
	}
	s.digest, s.dirty = h.Sum64(), false
	return s.digest
}

func cloneSpec(s remote.NodeSpec) remote.NodeSpec {
	s.Addrs = slices.Clone(s.Addrs)
	s.Tags = maps.Clone(s.Tags)
	return s
}

func roleOf(s remote.NodeSpec) Role {
	if r := Role(s.Tags[RoleTag]); r != "" {
		return r
	}
	return Server
}
