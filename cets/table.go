package cets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// Info describes a table server, as cets:info/1 does.
type Info struct {
	Table           string
	Type            Type
	Server          actor.PID
	Leader          actor.PID
	Nodes           []string    // this node and its peers' nodes, sorted
	OtherServers    []actor.PID // the peer servers, sorted
	Size            int         // records
	Memory          int         // bytes taken by the B-tree and hash index items (records' own heap data not counted)
	JoinRef         uint64
	NodeDownHistory []DownEvent
	PauseMonitors   []actor.Ref // pauses in force, in the order taken
	Backlog         int         // writes held back by pauses
}

// Table is the handle of a table on one node: local reads from the latest
// snapshot, and calls to the node's server for everything else. It is safe
// for concurrent use.
type Table[K cmp.Ordered, V any] struct {
	node   *actor.Node
	name   string
	opts   Options[K, V]
	shared *shared[K, V]
}

// Start starts the server of table name on node, registered under name,
// and returns its handle.
func Start[K cmp.Ordered, V any](node *actor.Node, name string, opts Options[K, V]) (*Table[K, V], error) {
	t, err := newTable(node, name, opts)
	if err != nil {
		return nil, err
	}
	if _, err := node.Spawn(actor.Server(newServer(name, t.opts, t.shared)), actor.WithName(name)); err != nil {
		return nil, fmt.Errorf("cets: start %s: %w", name, err)
	}
	return t, nil
}

// ChildSpec returns the supervisor child spec of table name's server on node
// and the table's handle, which stays valid across restarts (a restarted
// server starts empty and alone; discovery joins it again).
func ChildSpec[K cmp.Ordered, V any](node *actor.Node, name string, opts Options[K, V]) (supervisor.ChildSpec, *Table[K, V], error) {
	t, err := newTable(node, name, opts)
	if err != nil {
		return supervisor.ChildSpec{}, nil, err
	}
	spec := supervisor.Worker(name, func() actor.GenServer { return newServer(name, t.opts, t.shared) }, actor.WithName(name))
	return spec, t, nil
}

func newTable[K cmp.Ordered, V any](node *actor.Node, name string, opts Options[K, V]) (*Table[K, V], error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty table name", ErrBadOptions)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	t := &Table[K, V]{node: node, name: name, opts: opts, shared: &shared[K, V]{}}
	t.shared.reset(newStore(opts.Type, opts.Key, opts.Equal))
	return t, nil
}

// Name returns the table's name.
func (t *Table[K, V]) Name() string { return t.name }

// Node returns the node the handle is on.
func (t *Table[K, V]) Node() *actor.Node { return t.node }

// Server returns the table's server on this node as a destination.
func (t *Table[K, V]) Server() actor.Dest { return actor.Name{Node: t.node.Name(), Name: t.name} }

// PID returns the server's PID, if it runs.
func (t *Table[K, V]) PID() (actor.PID, bool) { return t.node.WhereIs(t.name) }

// writeCtx gives a write without a deadline no bound: a write waits for
// every node, and a lost node is only found lost after the net tick time.
func writeCtx(ctx context.Context) context.Context {
	if _, ok := ctx.Deadline(); ok {
		return ctx
	}
	return actor.WithoutCallTimeout(ctx)
}

func (t *Table[K, V]) write(ctx context.Context, ops ...op[K, V]) error {
	_, err := t.node.Call(writeCtx(ctx), t.Server(), localWrite[K, V]{ops: ops})
	return err
}

// Insert writes rec on every node (replacing the record of its key in an
// ordered set, adding it to a bag). It returns once every node has applied
// it or been found down: a netsplit delays it (by at most the time it takes
// to find the other side lost) but does not fail it.
func (t *Table[K, V]) Insert(ctx context.Context, rec V) error {
	return t.write(ctx, op[K, V]{Kind: opInsert, Recs: []V{rec}})
}

// InsertMany is Insert of several records as one write.
func (t *Table[K, V]) InsertMany(ctx context.Context, recs []V) error {
	return t.write(ctx, op[K, V]{Kind: opInsert, Recs: recs})
}

// Delete removes the records of key k on every node.
func (t *Table[K, V]) Delete(ctx context.Context, k K) error {
	return t.write(ctx, op[K, V]{Kind: opDelete, Keys: []K{k}})
}

// DeleteMany removes the records of several keys as one write.
func (t *Table[K, V]) DeleteMany(ctx context.Context, keys []K) error {
	return t.write(ctx, op[K, V]{Kind: opDelete, Keys: keys})
}

// DeleteObject removes rec (the record equal to it, not others of its key in
// a bag) on every node.
func (t *Table[K, V]) DeleteObject(ctx context.Context, rec V) error {
	return t.write(ctx, op[K, V]{Kind: opDeleteObject, Recs: []V{rec}})
}

// DeleteObjects is DeleteObject of several records as one write.
func (t *Table[K, V]) DeleteObjects(ctx context.Context, recs []V) error {
	return t.write(ctx, op[K, V]{Kind: opDeleteObject, Recs: recs})
}

// Request is a write in flight, from one of the ...Request methods.
type Request struct {
	done chan struct{}
	err  error
}

func (t *Table[K, V]) request(ops ...op[K, V]) *Request {
	r := &Request{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = t.write(context.Background(), ops...)
	}()
	return r
}

// InsertRequest starts Insert and returns at once; WaitResponse waits for it.
func (t *Table[K, V]) InsertRequest(rec V) *Request {
	return t.request(op[K, V]{Kind: opInsert, Recs: []V{rec}})
}

// InsertManyRequest starts InsertMany.
func (t *Table[K, V]) InsertManyRequest(recs []V) *Request {
	return t.request(op[K, V]{Kind: opInsert, Recs: recs})
}

// DeleteRequest starts Delete.
func (t *Table[K, V]) DeleteRequest(k K) *Request {
	return t.request(op[K, V]{Kind: opDelete, Keys: []K{k}})
}

// DeleteManyRequest starts DeleteMany.
func (t *Table[K, V]) DeleteManyRequest(keys []K) *Request {
	return t.request(op[K, V]{Kind: opDelete, Keys: keys})
}

// DeleteObjectRequest starts DeleteObject.
func (t *Table[K, V]) DeleteObjectRequest(rec V) *Request {
	return t.request(op[K, V]{Kind: opDeleteObject, Recs: []V{rec}})
}

// DeleteObjectsRequest starts DeleteObjects.
func (t *Table[K, V]) DeleteObjectsRequest(recs []V) *Request {
	return t.request(op[K, V]{Kind: opDeleteObject, Recs: recs})
}

// WaitResponse waits for a request's result. A ctx that ends first returns
// ErrTimeout (or ctx's error when cancelled); the write itself goes on.
func WaitResponse(ctx context.Context, r *Request) error {
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("cets: wait response: %w", ErrTimeout)
		}
		return ctx.Err()
	}
}

// WaitResponses waits for several requests under one ctx and returns their
// results in request order.
func WaitResponses(ctx context.Context, rs []*Request) []error {
	out := make([]error, len(rs))
	for i, r := range rs {
		out[i] = WaitResponse(ctx, r)
	}
	return out
}

// Local reads: from the latest snapshot, without the server.

func (t *Table[K, V]) snap() *snapshot[K, V] { return t.shared.snap.Load() }

// Get returns the record of key k (the first one, in a bag). Point reads
// (Get, Lookup, Has) use the table's lock-free hash index.
func (t *Table[K, V]) Get(k K) (V, bool) {
	it, ok := t.shared.ix.Load().get(k)
	return it.val, ok
}

// Lookup returns the records of key k (at most one in an ordered set).
func (t *Table[K, V]) Lookup(k K) []V {
	it, ok := t.shared.ix.Load().get(k)
	if !ok {
		return nil
	}
	return it.records(nil)
}

// Has reports whether key k has a record.
func (t *Table[K, V]) Has(k K) bool {
	_, ok := t.shared.ix.Load().get(k)
	return ok
}

// Len returns the number of records.
func (t *Table[K, V]) Len() int { return t.snap().size }

// All returns every record in key order.
func (t *Table[K, V]) All() []V {
	s := t.snap()
	out := make([]V, 0, s.size)
	s.tree.Ascend(func(it item[K, V]) bool {
		out = it.records(out)
		return true
	})
	return out
}

// Keys returns every key in order.
func (t *Table[K, V]) Keys() []K {
	s := t.snap()
	out := make([]K, 0, s.tree.Len())
	s.tree.Ascend(func(it item[K, V]) bool {
		out = append(out, it.key)
		return true
	})
	return out
}

// Ascend calls fn for the records with keys in [from, to), in key order,
// until fn returns false. All of one snapshot: writes meanwhile are not seen.
func (t *Table[K, V]) Ascend(from, to K, fn func(V) bool) {
	t.snap().tree.AscendRange(item[K, V]{key: from}, item[K, V]{key: to}, func(it item[K, V]) bool {
		if !fn(it.val) {
			return false
		}
		for _, v := range it.rest() {
			if !fn(v) {
				return false
			}
		}
		return true
	})
}

// AscendFrom calls fn for the records with keys >= from, in key order,
// until fn returns false.
func (t *Table[K, V]) AscendFrom(from K, fn func(V) bool) {
	t.snap().tree.AscendGreaterOrEqual(item[K, V]{key: from}, func(it item[K, V]) bool {
		if !fn(it.val) {
			return false
		}
		for _, v := range it.rest() {
			if !fn(v) {
				return false
			}
		}
		return true
	})
}

// Range returns the records with keys in [from, to).
func (t *Table[K, V]) Range(from, to K) []V {
	var out []V
	t.Ascend(from, to, func(v V) bool {
		out = append(out, v)
		return true
	})
	return out
}

// Prefix returns the records of a table with string keys whose keys start
// with prefix, in key order.
func Prefix[V any](t *Table[string, V], prefix string) []V {
	var out []V
	t.AscendFrom(prefix, func(v V) bool {
		if k := t.opts.Key(v); len(k) < len(prefix) || k[:len(prefix)] != prefix {
			return false
		}
		out = append(out, v)
		return true
	})
	return out
}

// Leader operations: run by the leader (the highest server PID), so that
// concurrent ones from any node are serialized.

func (t *Table[K, V]) leaderCall(ctx context.Context, kind leaderKind, recs []V) (leaderReply, error) {
	payload, err := t.opts.Codec.Marshal(recs)
	if err != nil {
		return leaderReply{}, err
	}
	ctx = writeCtx(ctx)
	var dest actor.Dest = t.Server()
	for attempt := 0; ; attempt++ {
		v, err := t.node.Call(ctx, dest, leaderReq{Kind: kind, Payload: payload})
		if err != nil {
			// A leader that dies mid-operation is the caller's to know:
			// the operation may or may not have happened.
			return leaderReply{}, err
		}
		switch r := v.(type) {
		case leaderReply:
			return r, nil
		case wrongLeaderReply:
			if attempt >= len(t.opts.LeaderRetry) {
				return leaderReply{}, fmt.Errorf("%w: %s names %s", ErrWrongLeader, pidOf(dest), r.Leader)
			}
			delay := t.opts.LeaderRetry[attempt]
			if t.opts.HandleWrongLeader != nil {
				t.opts.HandleWrongLeader(WrongLeaderInfo{Table: t.name, Asked: pidOf(dest), Leader: r.Leader, Attempt: attempt + 1, NextDelay: delay})
			}
			if err := sleep(ctx, delay); err != nil {
				return leaderReply{}, err
			}
			dest = r.Leader
		default:
			return leaderReply{}, fmt.Errorf("cets: unexpected leader reply %T", v)
		}
	}
}

func pidOf(d actor.Dest) actor.PID {
	p, _ := d.(actor.PID)
	return p
}

func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("cets: %w", ErrTimeout)
		}
		return ctx.Err()
	}
}

// InsertNew inserts rec on every node unless its key has a record; it
// reports whether it inserted. Of concurrent InsertNew calls for one key
// from any nodes of a cluster, exactly one inserts.
func (t *Table[K, V]) InsertNew(ctx context.Context, rec V) (bool, error) {
	r, err := t.leaderCall(ctx, leaderInsertNew, []V{rec})
	return r.Inserted, err
}

// InsertNewOrLookup is InsertNew that also returns the records already
// under the key when it does not insert (rec itself when it does).
func (t *Table[K, V]) InsertNewOrLookup(ctx context.Context, rec V) ([]V, bool, error) {
	r, err := t.leaderCall(ctx, leaderInsertNewOrLookup, []V{rec})
	if err != nil {
		return nil, false, err
	}
	if r.Inserted {
		return []V{rec}, true, nil
	}
	var existing []V
	if err := t.opts.Codec.Unmarshal(r.Existing, &existing); err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return existing, false, nil
}

// InsertSerial inserts rec through the leader, so that concurrent writes of
// one key from several nodes reach every node in the same order and the
// nodes agree on the last.
func (t *Table[K, V]) InsertSerial(ctx context.Context, rec V) error {
	_, err := t.leaderCall(ctx, leaderInsertSerial, []V{rec})
	return err
}

// Dump returns every record, from the server (not the snapshot).
func (t *Table[K, V]) Dump(ctx context.Context) ([]V, error) {
	return t.RemoteDump(ctx, t.Server())
}

// RemoteDump returns every record of the table's server server (on any
// node).
func (t *Table[K, V]) RemoteDump(ctx context.Context, server actor.Dest) ([]V, error) {
	chunks, err := dumpChunks(ctx, t.node, server, 0)
	if err != nil {
		return nil, err
	}
	out := []V{}
	for _, chunk := range chunks {
		var recs []V
		if err := t.opts.Codec.Unmarshal(chunk, &recs); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDecode, err)
		}
		out = append(out, recs...)
	}
	return out, nil
}

// Pause holds back writes on this node's server until Unpause, or until
// owner exits (the zero PID: only Unpause releases it). Pauses nest.
func (t *Table[K, V]) Pause(ctx context.Context, owner actor.PID) (actor.Ref, error) {
	return Pause(ctx, t.node, t.Server(), owner)
}

// Unpause releases a pause; the last one applies the writes held back, in
// the order they arrived. An unknown ref is ErrUnknownPauseMonitor.
func (t *Table[K, V]) Unpause(ctx context.Context, ref actor.Ref) error {
	return Unpause(ctx, t.node, t.Server(), ref)
}

// Info describes this node's server.
func (t *Table[K, V]) Info(ctx context.Context) (Info, error) {
	return GetInfo(ctx, t.node, t.Server())
}

// Ping checks that this node's server answers.
func (t *Table[K, V]) Ping(ctx context.Context) error { return Ping(ctx, t.node, t.Server()) }

// PingAll pings every server of the table's cluster.
func (t *Table[K, V]) PingAll(ctx context.Context) error { return PingAll(ctx, t.node, t.Server()) }

// OtherNodes returns the nodes of the other servers of the table, sorted.
func (t *Table[K, V]) OtherNodes(ctx context.Context) ([]string, error) {
	return OtherNodes(ctx, t.node, t.Server())
}

// OtherServers returns the other servers of the table, sorted.
func (t *Table[K, V]) OtherServers(ctx context.Context) ([]actor.PID, error) {
	info, err := t.Info(ctx)
	return info.OtherServers, err
}

// Join joins this node's server with remote's cluster; see Join.
func (t *Table[K, V]) Join(ctx context.Context, remote actor.Dest, opts JoinOptions) error {
	return Join(ctx, t.node, t.Server(), remote, opts)
}
