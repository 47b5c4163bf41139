package cets

import (
	"cmp"

	"github.com/google/btree"
)

// item is one key of a table: its record, and for a bag the further
// records under the same key, in insertion order.
type item[K cmp.Ordered, V any] struct {
	key  K
	val  V
	more *[]V // a bag's further records; nil in an ordered set
}

func (it item[K, V]) rest() []V {
	if it.more == nil {
		return nil
	}
	return *it.more
}

func (it item[K, V]) records(dst []V) []V {
	dst = append(dst, it.val)
	return append(dst, it.rest()...)
}

func (it item[K, V]) count() int { return 1 + len(it.rest()) }

const btreeDegree = 32

// store is a table's data: a B-tree the owning process mutates, from which
// it publishes immutable snapshots (Clone is copy-on-write, so a snapshot
// costs O(1) and the tree copies only the nodes it changes afterwards).
type store[K cmp.Ordered, V any] struct {
	typ   Type
	key   func(V) K
	equal func(a, b V) bool
	tree  *btree.BTreeG[item[K, V]]
	ix    *index[K, V] // point reads, kept in step with tree
	size  int          // records, not keys (they differ in a bag)
}

func (s *store[K, V]) set(it item[K, V]) {
	s.tree.ReplaceOrInsert(it)
	s.ix.put(it)
}

func (s *store[K, V]) drop(k K) (item[K, V], bool) {
	old, ok := s.tree.Delete(item[K, V]{key: k})
	if ok {
		s.ix.remove(k)
	}
	return old, ok
}

func itemLess[K cmp.Ordered, V any](a, b item[K, V]) bool { return a.key < b.key }

func newStore[K cmp.Ordered, V any](typ Type, key func(V) K, equal func(a, b V) bool) *store[K, V] {
	return &store[K, V]{typ: typ, key: key, equal: equal, tree: btree.NewG(btreeDegree, itemLess[K, V]), ix: newIndex[K, V]()}
}

func (s *store[K, V]) get(k K) (item[K, V], bool) {
	return s.ix.get(k)
}

func (s *store[K, V]) has(k K) bool {
	_, ok := s.get(k)
	return ok
}

func (s *store[K, V]) insert(rec V) {
	k := s.key(rec)
	old, ok := s.get(k)
	if !ok {
		s.set(item[K, V]{key: k, val: rec})
		s.size++
		return
	}
	if s.typ == OrderedSet {
		s.set(item[K, V]{key: k, val: rec})
		return
	}
	if s.equal(old.val, rec) {
		return
	}
	for _, v := range old.rest() {
		if s.equal(v, rec) {
			return
		}
	}
	// A fresh slice: the old one may be shared with a published snapshot.
	more := make([]V, len(old.rest()), len(old.rest())+1)
	copy(more, old.rest())
	more = append(more, rec)
	s.set(item[K, V]{key: k, val: old.val, more: &more})
	s.size++
}

func (s *store[K, V]) delete(k K) {
	if old, ok := s.drop(k); ok {
		s.size -= old.count()
	}
}

func (s *store[K, V]) deleteObject(rec V) {
	k := s.key(rec)
	old, ok := s.get(k)
	if !ok {
		return
	}
	kept := make([]V, 0, old.count())
	for _, v := range old.records(nil) {
		if !s.equal(v, rec) {
			kept = append(kept, v)
		}
	}
	if len(kept) == old.count() {
		return
	}
	s.size -= old.count() - len(kept)
	if len(kept) == 0 {
		s.drop(k)
		return
	}
	it := item[K, V]{key: k, val: kept[0]}
	if len(kept) > 1 {
		more := kept[1:]
		it.more = &more
	}
	s.set(it)
}

func (s *store[K, V]) apply(o op[K, V]) {
	switch o.Kind {
	case opInsert:
		for _, r := range o.Recs {
			s.insert(r)
		}
	case opDelete:
		for _, k := range o.Keys {
			s.delete(k)
		}
	case opDeleteObject:
		for _, r := range o.Recs {
			s.deleteObject(r)
		}
	}
}

func (s *store[K, V]) dump() []V {
	out := make([]V, 0, s.size)
	s.tree.Ascend(func(it item[K, V]) bool {
		out = it.records(out)
		return true
	})
	return out
}

func (s *store[K, V]) snapshot() *snapshot[K, V] {
	return &snapshot[K, V]{tree: s.tree.Clone(), size: s.size}
}

// snapshot is an immutable view of a table, read without locks by any
// number of goroutines.
type snapshot[K cmp.Ordered, V any] struct {
	tree *btree.BTreeG[item[K, V]]
	size int
}

// opKind is the kind of a write.
type opKind uint8

const (
	opInsert opKind = iota + 1
	opDelete
	opDeleteObject
)

// op is one replicated write. Its fields are exported for the codec.
type op[K cmp.Ordered, V any] struct {
	Kind opKind
	Recs []V
	Keys []K
}
