// Package metadata is a replicated, eventually consistent key/value store
// on plumtree: every node holds every key, writes are broadcast along the
// broadcast server's trees, and periodic anti-entropy exchanges bring back
// what a broadcast missed (a node that was partitioned, or down, or that
// joined late).
//
// # What it ports
//
// The spirit of riak_core_metadata (riak_core_metadata_manager as a
// riak_core_broadcast handler): Put, Get, Delete with tombstones, a
// broadcast handler whose message ids are a key and the version of its
// write, and an exchange that repairs replicas. It is simpler in three ways:
// keys are flat strings (no {prefix, subprefix}), a conflict is settled by
// last-writer-wins on a hybrid logical clock rather than kept as siblings
// of a dotted version vector, and the exchange compares one digest of the
// whole store and then swaps entries (no hash trees), which suits stores of
// thousands of keys, not millions.
//
// # Use
//
//	st, _ := metadata.Start(node, metadata.Config{})
//	srv, _ := plumtree.Start(node, svc, plumtree.Config{Handlers: []plumtree.Handler{st}})
//	st.Bind(srv)
//	_ = st.Put("config/feature-x", []byte("on"))
//	v, ok := st.Get("config/feature-x")
//
// # Consistency
//
// Every write gets a hybrid logical clock timestamp (physical nanoseconds,
// a logical counter, the node name for ties). The clock follows every
// timestamp the node merges, so a write made after seeing another is newer
// than it, even if the writer's physical clock is behind. Of two concurrent
// writes to a key, the one with the larger timestamp wins on every node,
// whatever order they arrive in; the other is lost (last writer wins).
// Deletions are tombstones that win over older writes; they are kept
// forever (no garbage collection), as riak_core_metadata keeps its
// tombstones.
//
// Values are []byte: encode structured values yourself. Get and Keys read
// the local replica and never block.
package metadata
