package ensemble

import (
	"encoding/binary"
	"slices"
	"sync"
)

// Backend stores one peer's objects (riak_ensemble_backend). A peer
// changes it only by applying committed operations, in log order, so every
// peer's backend goes through the same states. Its methods are called from
// the peer's process only.
type Backend interface {
	// Get returns the stored object of key, or false if there is none.
	Get(key string) (Object, bool)
	// Put stores an object (a tombstone too: NotFound set).
	Put(obj Object) error
	// Snapshot encodes every object, for Raft snapshots.
	Snapshot() ([]byte, error)
	// Restore replaces every object with a snapshot's.
	Restore(snapshot []byte) error
	// Close releases what the backend holds; the peer is stopping.
	Close() error
}

// NewBackend makes the backend of one peer: the ensemble's id and the
// directory reserved for it (under Config.DataDir; empty without one).
type NewBackend func(ensemble, dir string) (Backend, error)

// MemoryBackend is the name of the built-in backend that keeps objects in
// memory only.
const MemoryBackend = "memory"

// memoryBackend keeps objects in a map.
type memoryBackend struct {
	mu   sync.Mutex // only for Len from tests; the peer process is the only writer
	objs map[string]Object
}

// NewMemoryBackend returns a Backend that keeps objects in memory.
func NewMemoryBackend(string, string) (Backend, error) {
	return &memoryBackend{objs: make(map[string]Object)}, nil
}

var _ Backend = (*memoryBackend)(nil)

func (m *memoryBackend) Get(key string) (Object, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[key]
	return o, ok
}

func (m *memoryBackend) Put(o Object) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[o.Key] = o
	return nil
}

// Snapshot writes the objects sorted by key, so that equal states give
// equal snapshots.
func (m *memoryBackend) Snapshot() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := sortedObjectKeys(m.objs)
	b := binary.AppendUvarint(nil, uint64(len(keys)))
	for _, k := range keys {
		b = appendObject(b, m.objs[k])
	}
	return b, nil
}

func (m *memoryBackend) Restore(snap []byte) error {
	objs := make(map[string]Object)
	n, b, ok := readUvarint(snap)
	if !ok && len(snap) > 0 {
		return errBadEntry
	}
	for range n {
		var o Object
		if o, b, ok = readObject(b); !ok {
			return errBadEntry
		}
		objs[o.Key] = o
	}
	m.mu.Lock()
	m.objs = objs
	m.mu.Unlock()
	return nil
}

func (m *memoryBackend) Close() error { return nil }

func sortedObjectKeys(objs map[string]Object) []string {
	keys := make([]string, 0, len(objs))
	for k := range objs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
