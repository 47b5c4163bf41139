package peerservice

import (
	"cmp"
	"encoding/binary"
	"hash/fnv"
	"maps"
	"slices"

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

// State is a membership set as it travels and is stored: its version vector
// (per actor, the highest counter of that actor's adds it has seen, sorted
// by actor) and every add it holds, sorted by dot. There are no tombstones.
type State struct {
	Clock []Dot
	Adds  []Entry
}

// ORSet is an observed-remove set of node specs keyed by node name, without
// tombstones (an ORSWOT): a state-based CRDT. Add creates a new dot; Remove
// drops the adds it has observed, and the version vector remembers that it
// saw them. Merge keeps an add both sides hold, and an add one side holds
// that the other has not seen (its dot is past the other's version vector);
// an add the other side saw and no longer holds was removed there. Merge is
// commutative, associative and idempotent, and an add concurrent with a
// remove survives it (add wins). The state is one entry per member and one
// counter per actor (per manager incarnation that ever added), however many
// times nodes leave and join again. It is not safe for concurrent use.
type ORSet struct {
	actor  string
	clock  map[string]uint64 // the version vector
	adds   map[Dot]remote.NodeSpec
	digest uint64
	dirty  bool
}

// NewORSet returns an empty set whose adds are made by actor, which must be
// unique to this incarnation of the node.
func NewORSet(actor string) *ORSet {
	return &ORSet{actor: actor, clock: map[string]uint64{}, adds: map[Dot]remote.NodeSpec{}, dirty: true}
}

// Reset empties the set, as a node does when it joins again after leaving.
// The actor's own counter carries on, so that its new adds are new dots.
func (s *ORSet) Reset() {
	own := s.clock[s.actor]
	clear(s.clock)
	clear(s.adds)
	if own > 0 {
		s.clock[s.actor] = own
	}
	s.dirty = true
}

// Add puts spec in the set under a new dot, replacing the spec of any add of
// the same name this replica has observed.
func (s *ORSet) Add(spec remote.NodeSpec) Dot {
	s.Remove(spec.Name)
	s.clock[s.actor]++
	d := Dot{Actor: s.actor, Counter: s.clock[s.actor]}
	s.adds[d] = cloneSpec(spec)
	s.dirty = true
	return d
}

// Remove drops every observed add of name. It reports whether there was one.
func (s *ORSet) Remove(name string) bool {
	return s.removeIf(func(d Dot, spec remote.NodeSpec) bool { return spec.Name == name })
}

// RemoveOthers drops every observed add of name made by another actor,
// keeping this replica's own. It reports whether there was one.
func (s *ORSet) RemoveOthers(name string) bool {
	return s.removeIf(func(d Dot, spec remote.NodeSpec) bool { return spec.Name == name && d.Actor != s.actor })
}

func (s *ORSet) removeIf(match func(Dot, remote.NodeSpec) bool) bool {
	found := false
	for d, spec := range s.adds {
		if match(d, spec) {
			delete(s.adds, d)
			found = true
		}
	}
	if found {
		s.dirty = true
	}
	return found
}

// HasOwn reports whether name is in the set under an add of this replica's.
func (s *ORSet) HasOwn(name string) bool {
	for d, spec := range s.adds {
		if spec.Name == name && d.Actor == s.actor {
			return true
		}
	}
	return false
}

// Merge folds another replica's state into this one and reports whether
// anything changed.
func (s *ORSet) Merge(o State) bool {
	theirs := make(map[string]uint64, len(o.Clock))
	for _, d := range o.Clock {
		theirs[d.Actor] = max(theirs[d.Actor], d.Counter)
	}
	held := make(map[Dot]struct{}, len(o.Adds))
	for _, e := range o.Adds {
		held[e.Dot] = struct{}{}
	}
	changed := false
	for d := range s.adds {
		if _, ok := held[d]; !ok && d.Counter <= theirs[d.Actor] {
			delete(s.adds, d) // seen there, and removed
			changed = true
		}
	}
	for _, e := range o.Adds {
		if _, ok := s.adds[e.Dot]; !ok && e.Dot.Counter > s.clock[e.Dot.Actor] {
			s.adds[e.Dot] = cloneSpec(e.Spec)
			changed = true
		}
	}
	for actor, n := range theirs {
		if n > s.clock[actor] {
			s.clock[actor] = n
			changed = true
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
	st := State{Clock: make([]Dot, 0, len(s.clock)), Adds: make([]Entry, 0, len(s.adds))}
	for actor, n := range s.clock {
		st.Clock = append(st.Clock, Dot{Actor: actor, Counter: n})
	}
	for d, spec := range s.adds {
		st.Adds = append(st.Adds, Entry{Dot: d, Spec: cloneSpec(spec)})
	}
	slices.SortFunc(st.Clock, compareDots)
	slices.SortFunc(st.Adds, func(a, b Entry) int { return compareDots(a.Dot, b.Dot) })
	return st
}

// Digest is a hash of the state: two replicas with the same digest hold the
// same state (barring hash collisions), so they need not exchange it. It is
// computed again only after a change. Every field is written with its length
// first, so that no two states write the same bytes.
func (s *ORSet) Digest() uint64 {
	if !s.dirty {
		return s.digest
	}
	h := fnv.New64a()
	var buf [binary.MaxVarintLen64]byte
	num := func(n uint64) { h.Write(buf[:binary.PutUvarint(buf[:], n)]) }
	str := func(v string) { num(uint64(len(v))); h.Write([]byte(v)) }
	st := s.State()
	num(uint64(len(st.Clock)))
	for _, d := range st.Clock {
		str(d.Actor)
		num(d.Counter)
	}
	num(uint64(len(st.Adds)))
	for _, e := range st.Adds {
		str(e.Dot.Actor)
		num(e.Dot.Counter)
		str(e.Spec.Name)
		num(uint64(len(e.Spec.Addrs)))
		for _, a := range e.Spec.Addrs {
			str(a)
		}
		tags := slices.Sorted(maps.Keys(e.Spec.Tags))
		num(uint64(len(tags)))
		for _, k := range tags {
			str(k)
			str(e.Spec.Tags[k])
		}
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
