package cets

import (
	"cmp"
	"hash/maphash"
	"sync/atomic"
)

// index is a lock-free hash index of a table's items for point reads (Get,
// Lookup, Has), beside the B-tree that serves ordered reads. Only the
// server writes it; any goroutine reads it. Each bucket is an immutable
// linked list behind an atomic pointer: a write builds the bucket's new list
// (copying the nodes before the one it changes) and swaps it in, and
// growing builds a new table and swaps the table pointer. A reader sees a
// bucket as it was before or after a write, never half-way.
type index[K cmp.Ordered, V any] struct {
	table atomic.Pointer[hashTable[K, V]]
	seed  maphash.Seed
	n     int // items, server only
}

type hashTable[K cmp.Ordered, V any] struct {
	buckets []atomic.Pointer[hashNode[K, V]]
	mask    uint64
}

type hashNode[K cmp.Ordered, V any] struct {
	it   item[K, V]
	next *hashNode[K, V]
}

const minBuckets = 64

func newIndex[K cmp.Ordered, V any]() *index[K, V] {
	ix := &index[K, V]{seed: maphash.MakeSeed()}
	ix.table.Store(newHashTable[K, V](minBuckets))
	return ix
}

func newHashTable[K cmp.Ordered, V any](size int) *hashTable[K, V] {
	return &hashTable[K, V]{buckets: make([]atomic.Pointer[hashNode[K, V]], size), mask: uint64(size - 1)}
}

func (ix *index[K, V]) get(k K) (item[K, V], bool) {
	t := ix.table.Load()
	for n := t.buckets[maphash.Comparable(ix.seed, k)&t.mask].Load(); n != nil; n = n.next {
		if n.it.key == k {
			return n.it, true
		}
	}
	return item[K, V]{}, false
}

// put sets the item of it.key.
func (ix *index[K, V]) put(it item[K, V]) {
	t := ix.table.Load()
	b := &t.buckets[maphash.Comparable(ix.seed, it.key)&t.mask]
	head := b.Load()
	if !replace(b, head, it.key, &hashNode[K, V]{it: it}) {
		b.Store(&hashNode[K, V]{it: it, next: head})
		ix.n++
		if ix.n > len(t.buckets) {
			ix.grow(t)
		}
	}
}

// remove drops the item of k.
func (ix *index[K, V]) remove(k K) {
	t := ix.table.Load()
	b := &t.buckets[maphash.Comparable(ix.seed, k)&t.mask]
	if replace(b, b.Load(), k, nil) {
		ix.n--
	}
}

// replace swaps the node of key in bucket b for with (nil: drops it),
// copying the nodes before it. It reports whether key was there.
func replace[K cmp.Ordered, V any](b *atomic.Pointer[hashNode[K, V]], head *hashNode[K, V], key K, with *hashNode[K, V]) bool {
	var found *hashNode[K, V]
	for n := head; n != nil; n = n.next {
		if n.it.key == key {
			found = n
			break
		}
	}
	if found == nil {
		return false
	}
	tail := found.next
	if with != nil {
		with.next = tail
		tail = with
	}
	// Copy the prefix in front of found onto tail, keeping its order.
	var prefix []*hashNode[K, V]
	for n := head; n != found; n = n.next {
		prefix = append(prefix, n)
	}
	for i := len(prefix) - 1; i >= 0; i-- {
		tail = &hashNode[K, V]{it: prefix[i].it, next: tail}
	}
	b.Store(tail)
	return true
}

func (ix *index[K, V]) grow(old *hashTable[K, V]) {
	t := newHashTable[K, V](2 * len(old.buckets))
	for i := range old.buckets {
		for n := old.buckets[i].Load(); n != nil; n = n.next {
			b := &t.buckets[maphash.Comparable(ix.seed, n.it.key)&t.mask]
			b.Store(&hashNode[K, V]{it: n.it, next: b.Load()})
		}
	}
	ix.table.Store(t)
}
