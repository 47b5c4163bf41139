package cets

import (
	"reflect"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

type rec struct {
	Key string
	Val int
}

func newTestCore(self uint64) *core[string, rec] {
	data := newStore(OrderedSet, func(r rec) string { return r.Key }, func(a, b rec) bool { return a == b })
	return newCore(pidN(self), "t", data, 7)
}

func pidN(id uint64) actor.PID { return actor.PID{Node: "n", Creation: 1, ID: id} }
func fromN(id uint64) actor.From {
	return actor.From{PID: pidN(id), Ref: actor.Ref{Node: "n", Creation: 1, ID: id}}
}

func ins(recs ...rec) []op[string, rec] { return []op[string, rec]{{Kind: opInsert, Recs: recs}} }

func kinds(effs []effect[string, rec]) []effKind {
	var out []effKind
	for _, e := range effs {
		out = append(out, e.kind)
	}
	return out
}

func TestCoreBatchesWritesUntilFlush(t *testing.T) {
	c := newTestCore(1)
	c.joined([]actor.PID{pidN(2), pidN(3)}, 7, nil)
	if got := kinds(c.write(fromN(10), ins(rec{"a", 1}), true)); !reflect.DeepEqual(got, []effKind{effScheduleFlush}) {
		t.Fatalf("first write: %v", got)
	}
	if got := c.write(fromN(11), ins(rec{"b", 2}), true); len(got) != 0 {
		t.Fatalf("second write before the flush: %v", kinds(got))
	}
	effs := c.flush()
	if got := kinds(effs); !reflect.DeepEqual(got, []effKind{effPublish, effSendOps, effSendOps}) {
		t.Fatalf("flush: %v", got)
	}
	if len(effs[1].ops) != 2 || effs[1].pid != pidN(2) || effs[2].pid != pidN(3) {
		t.Fatalf("one batch of both writes to each peer, in order: %+v", effs[1:])
	}
	batch := effs[1].value.(opsMsg).Batch
	if got := c.ack(pidN(2), batch); len(got) != 0 {
		t.Fatalf("replied before every peer acked: %v", kinds(got))
	}
	// The other peer goes down instead of acking: the writes return.
	got := c.peerDown(pidN(3), actor.ErrNoConnection, time.Unix(0, 0))
	if k := kinds(got); !reflect.DeepEqual(k, []effKind{effReply, effReply, effHandleDown}) {
		t.Fatalf("peer down: %v", k)
	}
	if got[0].from != fromN(10) || got[1].from != fromN(11) {
		t.Fatal("replies out of order")
	}
	if got[2].down.IsLeader || got[2].down.Remote != pidN(3) { // 2 outranks 1
		t.Fatalf("down info %+v", got[2].down)
	}
	if len(c.history) != 1 || c.history[0].Remote != pidN(3) {
		t.Fatalf("history %+v", c.history)
	}
	// A second down of the same peer does nothing: HandleDown once.
	if got := c.peerDown(pidN(3), nil, time.Unix(0, 0)); got != nil {
		t.Fatalf("second down: %v", kinds(got))
	}
}

func TestCoreDropsStaleJoinRefButAcks(t *testing.T) {
	c := newTestCore(1)
	c.joined([]actor.PID{pidN(2)}, 8, nil)
	effs := c.remoteOps(opsMsg{From: pidN(2), JoinRef: 7, Batch: 5}, ins(rec{"x", 1}))
	if k := kinds(effs); !reflect.DeepEqual(k, []effKind{effAck}) || effs[0].batch != 5 || effs[0].pid != pidN(2) {
		t.Fatalf("stale batch: %v", effs)
	}
	if c.data.has("x") {
		t.Fatal("stale batch applied")
	}
	effs = c.remoteOps(opsMsg{From: pidN(2), JoinRef: 8, Batch: 6}, ins(rec{"x", 1}))
	if k := kinds(effs); !reflect.DeepEqual(k, []effKind{effPublish, effAck}) || !c.data.has("x") {
		t.Fatalf("current batch: %v", k)
	}
}

func TestCorePauseHoldsBacklogInOrder(t *testing.T) {
	c := newTestCore(1)
	c.joined([]actor.PID{pidN(2)}, 7, nil)
	r1, r2 := actor.Ref{ID: 1}, actor.Ref{ID: 2}
	if k := kinds(c.pause(r1, pidN(50))); !reflect.DeepEqual(k, []effKind{effMonitorPauser}) {
		t.Fatalf("pause: %v", k)
	}
	c.pause(r2, actor.PID{})
	if effs := c.write(fromN(10), ins(rec{"k", 1}), true); effs != nil {
		t.Fatal("write while paused ran")
	}
	c.remoteOps(opsMsg{From: pidN(2), JoinRef: 7, Batch: 1}, ins(rec{"k", 2}))
	c.write(fromN(11), ins(rec{"k", 3}), true)
	if c.data.has("k") {
		t.Fatal("applied while paused")
	}
	if _, ok := c.unpause(actor.Ref{ID: 9}, false); ok {
		t.Fatal("unknown ref unpaused")
	}
	effs, ok := c.unpause(r1, false)
	if !ok || !reflect.DeepEqual(kinds(effs), []effKind{effDemonitorPauser}) || !c.paused() {
		t.Fatalf("nested unpause: %v %v", kinds(effs), ok)
	}
	effs, _ = c.unpause(r2, true)
	if k := kinds(effs); !reflect.DeepEqual(k, []effKind{effScheduleFlush, effPublish, effAck}) {
		t.Fatalf("backlog: %v", k)
	}
	if it, _ := c.data.get("k"); it.val.Val != 3 {
		t.Fatalf("backlog out of order: k = %d, want 3", it.val.Val)
	}
}

func TestCoreLeaderOps(t *testing.T) {
	c := newTestCore(5)
	c.joined([]actor.PID{pidN(9)}, 7, nil)
	effs := c.leaderOp(fromN(1), leaderInsertNew, []rec{{"k", 1}})
	if len(effs) != 1 || effs[0].value != (wrongLeaderReply{Leader: pidN(9)}) {
		t.Fatalf("not leader: %+v", effs)
	}
	c.peerDown(pidN(9), nil, time.Unix(0, 0))
	effs = c.leaderOp(fromN(1), leaderInsertNew, []rec{{"k", 1}})
	if k := kinds(effs); !reflect.DeepEqual(k, []effKind{effScheduleFlush}) {
		t.Fatalf("leader insert new: %v", k)
	}
	effs = c.flush()
	if len(effs) != 2 || !reflect.DeepEqual(effs[1].value, leaderResult[rec]{inserted: true}) {
		t.Fatalf("flush: %+v", effs)
	}
	effs = c.leaderOp(fromN(2), leaderInsertNewOrLookup, []rec{{"k", 2}})
	if len(effs) != 1 || !reflect.DeepEqual(effs[0].value, leaderResult[rec]{existing: []rec{{"k", 1}}}) {
		t.Fatalf("lookup: %+v", effs)
	}
}

func TestStoreBag(t *testing.T) {
	s := newStore(Bag, func(r rec) string { return r.Key }, func(a, b rec) bool { return a == b })
	s.insert(rec{"k", 1})
	s.insert(rec{"k", 2})
	s.insert(rec{"k", 1}) // a duplicate object
	s.insert(rec{"j", 1})
	snap := s.snapshot()
	if s.size != 3 {
		t.Fatalf("size %d", s.size)
	}
	s.deleteObject(rec{"k", 1})
	if got := s.dump(); !reflect.DeepEqual(got, []rec{{"j", 1}, {"k", 2}}) {
		t.Fatalf("after delete object: %v", got)
	}
	// The snapshot taken before is untouched.
	it, _ := snap.tree.Get(item[string, rec]{key: "k"})
	if got := it.records(nil); !reflect.DeepEqual(got, []rec{{"k", 1}, {"k", 2}}) || snap.size != 3 {
		t.Fatalf("snapshot changed: %v", got)
	}
	s.delete("k")
	if s.size != 1 {
		t.Fatalf("size %d", s.size)
	}
}

func TestCoreGathersWritesWhileABatchIsInFlight(t *testing.T) {
	c := newTestCore(1)
	c.joined([]actor.PID{pidN(2)}, 7, nil)
	c.write(fromN(10), ins(rec{"a", 1}), true)
	first := c.flush()
	batch := first[1].value.(opsMsg).Batch
	// Two more writes while the first batch waits: no batch goes yet.
	c.write(fromN(11), ins(rec{"b", 1}), true)
	c.write(fromN(12), ins(rec{"c", 1}), true)
	if effs := c.flush(); effs != nil {
		t.Fatalf("sent with a batch in flight: %v", kinds(effs))
	}
	// The ack answers the first writer and sends the other two as one batch.
	effs := c.ack(pidN(2), batch)
	if k := kinds(effs); !reflect.DeepEqual(k, []effKind{effReply, effPublish, effSendOps}) || effs[0].from != fromN(10) {
		t.Fatalf("after the ack: %v", k)
	}
	if len(effs[2].ops) != 2 {
		t.Fatalf("second batch holds %d ops, want 2", len(effs[2].ops))
	}
}
