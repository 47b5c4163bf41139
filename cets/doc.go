// Package cets is a table replicated to every node of a cluster: writes go
// to every node's copy, reads are local and never wait for anyone.
//
// # What it ports
//
// ESL's CETS (cets.erl, cets_join.erl, cets_call.erl): one table server per
// table per node, registered under the table's name, holding the node's copy;
// a join that merges two clusters of servers into one; leader operations for
// the writes that must not race. Names in Go case:
//
//	cets:start/2, start_link/2              Start, ChildSpec
//	insert, insert_many                     Table.Insert, Table.InsertMany
//	delete, delete_many                     Table.Delete, Table.DeleteMany
//	delete_object, delete_objects           Table.DeleteObject, Table.DeleteObjects
//	insert_request, ... , wait_response(s)  Table.InsertRequest, ..., WaitResponse, WaitResponses
//	insert_new, insert_new_or_lookup        Table.InsertNew, Table.InsertNewOrLookup
//	insert_serial                           Table.InsertSerial
//	pause, unpause                          Pause, Unpause (and Table.Pause, Table.Unpause)
//	ping, ping_all, info, dump, remote_dump Ping, PingAll, GetInfo, Table.Dump, Table.RemoteDump
//	other_nodes, other_pids                 OtherNodes, Table.OtherServers
//	cets_join:join/4                        Join, Table.Join
//	ets:lookup, ets:tab2list on the table   Table.Get, Table.Lookup, Table.All, Range, Prefix
//	handle_down, handle_conflict,           Options.HandleDown, Options.HandleConflict,
//	handle_wrong_leader                     Options.HandleWrongLeader
//
// Join refusals keep CETS's names: ErrJoinWithSamePID, ErrAlreadyJoined,
// ErrOverlap (check_do_not_overlap_failed), ErrNotFullyConnected,
// ErrNotSameJoinRef, ErrCannotReach (check_could_reach_each_other_failed).
//
// # Use
//
//	type Session struct{ User string; Node string }
//	tab, err := cets.Start(node, "sessions", cets.Options[string, Session]{
//		Key: func(s Session) string { return s.User },
//	})
//	err = tab.Insert(ctx, Session{User: "alice", Node: node.Name()})
//	s, ok := tab.Get("alice") // local, lock-free
//	err = tab.Join(ctx, actor.Name{Node: "b", Name: "sessions"}, cets.JoinOptions{})
//
// Records are any Go type V with a key K (cmp.Ordered) that Options.Key
// extracts (KeyAt builds one for tuples, like Erlang's keypos). Records cross
// nodes through Options.Codec (gob by default: exported fields). A join
// needs a lock server (package clusterlock) on every node taking part.
//
// # Reads
//
// The server keeps the data twice, and only the server writes either. An
// ordered copy is a B-tree (github.com/google/btree): after each batch of
// writes the server publishes a copy-on-write clone of it through an atomic
// pointer, and ordered reads (All, Keys, Range, Ascend, Prefix) search the
// clone, one consistent snapshot per call. Point reads (Get, Lookup, Has) go
// to a lock-free hash index whose buckets are immutable lists behind atomic
// pointers, which the server swaps as it applies each write. Neither takes a
// lock or sends a message, so reads scale with cores. A read sees every write
// that has returned on this node, and every write from another node once it
// is acknowledged to its writer (a point read may see a write a little
// earlier, once applied, like a read of an ETS table). Ordered sets keep one record per key; a Bag
// keeps distinct records per key (Options.Equal tells them apart).
//
// # Writes
//
// A write is a call to the node's server, which applies it, publishes a
// snapshot and sends it to every peer server; it returns once every peer has
// acknowledged it or has been found down (a monitor fires), so a netsplit
// delays a write by at most the time to detect the split and never fails it.
// Writes are batched: the server sends itself a flush message after the
// first write of a batch, and every write queued before that message goes to
// each peer in one message, with one acknowledgement. While a batch waits
// for its acknowledgements, further writes gather into the next one, sent
// when the first is acknowledged, so batches grow with the number of writers
// while a lone writer never waits. With the default codec each pair of
// servers keeps one gob stream, so type descriptions cross once, not with
// every batch. Every batch carries the sender's join ref; a batch
// whose ref is not the receiver's (sent before a join the receiver has
// completed) is dropped, but acknowledged, so no writer waits for it.
//
// # Leader operations
//
// The leader is the highest server PID of the cluster (the same on every
// node that sees the same servers). InsertNew, InsertNewOrLookup and
// InsertSerial run on the leader, which serializes them; a server that is
// not the leader answers wrong_leader with the leader it sees, and the caller
// retries there after the waits of Options.LeaderRetry (CETS's 10, 50, 100,
// 500, 1000, 5000, 5000 ms by default), calling HandleWrongLeader each time.
// A leader that dies during an operation makes the operation return that
// error: it may or may not have been applied, and it is not retried.
//
// # Joins, pauses and node loss
//
// Join (cets_join) takes the cluster lock DefaultJoinLock on the nodes of
// both clusters (so one join at a time runs cluster-wide), checks the two
// clusters, pauses every server of both, takes a dump of each side, sends
// each side's servers the other side's records, then every server the new
// list of servers and a new join ref, and unpauses. Dumps move in chunks of
// about JoinOptions.ChunkBytes, so a table of any size stays under the
// distribution's frame limit. A server that receives a record of a key it
// holds a different record of keeps HandleConflict's answer, called with the
// joining (local) side's record first on both sides, so the sides agree if
// the handler is deterministic; without one it takes the other side's
// record (as in CETS, the two sides then hold each other's).
//
// A paused server holds back writes (local ones and batches from peers) in
// arrival order; reads, info and pings go on. Pauses nest; each is released
// by Unpause or when the process that took it exits, and the last release
// applies the backlog in order.
//
// When a peer server is lost (its process exits or its node goes down) the
// server drops it, stops waiting for it, recomputes the leader, records the
// loss in Info.NodeDownHistory and calls HandleDown once. It does not rejoin:
// that is discovery's job (package cets/discovery).
//
// # Where it differs from CETS
//
//   - Records are typed (Table[K, V]) rather than tuples in ETS; the index is
//     a B-tree snapshot rather than an ETS table, so reads are lock-free and
//     see one consistent snapshot per call.
//   - The join's cluster lock is package clusterlock instead of global:trans;
//     every node of both clusters must run a lock server.
//   - Acknowledgements are collected by the table server itself instead of a
//     separate cets_ack process, per batch of writes rather than per write.
//   - HandleConflict runs on each receiving server rather than once in the
//     joining process.
//   - Batches and acknowledgements travel as wire lists; records inside them
//     are encoded by Options.Codec (by default gob, in one stream per pair of
//     servers; a custom Codec encodes each batch on its own).
//   - A join that fails after it started sending dumps leaves the records it
//     sent in place (as CETS's does); the servers keep their old peers and
//     join ref, and the next join merges again.
//   - Info.Memory counts the index's items, not the records' own bytes.
//
// # Layout
//
// core.go is the server's pure state machine (writes, batches, acks, peers,
// pauses and backlog, node downs -> effects); server.go is the gen_server
// shell that carries the effects out (sends, replies, monitors, snapshot
// publication, user callbacks); store.go is the B-tree, index.go the hash
// index; join.go the join and dump.go its chunked dumps.
package cets
