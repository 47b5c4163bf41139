package rafted

import (
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"go.etcd.io/raft/v3"
)

// TestCoreLeaseSurvivesFollowerRestart: the leader keeps its lease through
// one follower while the other follower cannot hear it and keeps standing
// for election. The follower that grants the lease restarts from its
// storage, and the leader is cut off. The restarted follower must not help
// elect a new leader while the old leader's lease runs.
func TestCoreLeaseSurvivesFollowerRestart(t *testing.T) {
	cfg := Config{HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: time.Second, ElectionTimeoutClockDriftMargin: 100 * time.Millisecond}
	hb := cfg.HeartbeatInterval
	n, cs := newCoreNet(t, 3, cfg)
	leader, f1, f2 := cs[0], cs[1], cs[2]
	if r := leader.command(actor.From{}, commandReq{Arg: mustEncode(t, int64(5))}); r != actor.NoReply {
		t.Fatalf("command: %v", r)
	}
	n.advance(time.Second, hb)
	n.cutLinks[[2]uint64{leader.id, f2.id}] = true
	n.advance(3*time.Second, hb)
	if leader.state != raft.StateLeader || f2.state == raft.StateLeader {
		t.Fatalf("leader %v, f2 %v", leader.state, f2.state)
	}
	if r := leader.queryReq(actor.From{}, queryReq{Arg: mustEncode(t, "")}, n.now); r != int64(5) {
		t.Fatalf("query under lease: %v", r)
	}
	leaseEnd := leader.leaseUntil
	n.cut[leader.id] = true
	f1 = n.restart(f1)
	// f2's election timer fires now (it has been standing for election
	// all along).
	if err := f2.rn.Campaign(); err != nil {
		t.Fatal(err)
	}
	n.settle()
	for n.now.Before(leaseEnd.Add(5 * time.Second)) {
		n.advance(hb, hb)
		if f1.state != raft.StateLeader && f2.state != raft.StateLeader {
			continue
		}
		if !n.now.Before(leaseEnd) {
			return
		}
		newLeader := f1
		if f2.state == raft.StateLeader {
			newLeader = f2
		}
		newLeader.command(actor.From{}, commandReq{Arg: mustEncode(t, int64(1))})
		n.settle()
		stale := leader.queryReq(actor.From{}, queryReq{Arg: mustEncode(t, "")}, n.now)
		t.Fatalf("new leader elected %v before the old lease ends; old leader answers %v, new value %v",
			leaseEnd.Sub(n.now), stale, newLeader.data.Query(nil))
	}
	t.Fatal("no new leader")
}

// TestCoreLeaseAfterChangeConfig: a new config lengthens the election
// timeout (and so the lease) while every member's raft still counts the
// election timeout it started with. A new leader must not be elected while
// the old leader's lease, computed from the new config, runs.
func TestCoreLeaseAfterChangeConfig(t *testing.T) {
	cfg := Config{HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: time.Second, ElectionTimeoutClockDriftMargin: 100 * time.Millisecond}
	hb := cfg.HeartbeatInterval
	n, cs := newCoreNet(t, 3, cfg)
	leader := cs[0]
	if r := leader.command(actor.From{}, commandReq{Arg: mustEncode(t, int64(5))}); r != actor.NoReply {
		t.Fatalf("command: %v", r)
	}
	longer := cfg
	longer.ElectionTimeout = 3 * time.Second
	if r := leader.changeConfig(actor.From{}, changeConfigReq{Config: longer}); r != actor.NoReply {
		t.Fatalf("change config: %v", r)
	}
	n.advance(2*time.Second, hb)
	for i, c := range cs {
		if c.cfg.ElectionTimeout != longer.ElectionTimeout {
			t.Fatalf("member %d config %+v", i, c.cfg)
		}
	}
	if r := leader.queryReq(actor.From{}, queryReq{Arg: mustEncode(t, "")}, n.now); r != int64(5) {
		t.Fatalf("query under lease: %v", r)
	}
	leaseEnd := leader.leaseUntil
	n.cut[leader.id] = true
	// Candidates stand every one to two (old) election timeouts; the first
	// to stand after the guard passes wins.
	for n.now.Before(leaseEnd.Add(5 * time.Second)) {
		n.advance(hb, hb)
		if cs[1].state != raft.StateLeader && cs[2].state != raft.StateLeader {
			continue
		}
		if !n.now.Before(leaseEnd) {
			return
		}
		t.Fatalf("new leader elected %v before the old lease ends", leaseEnd.Sub(n.now))
	}
	t.Fatal("no new leader")
}

// TestCoreLeaseSurvivesRestartedCandidate: after a config change that
// shortens the heartbeat, raft's election timer (counted in ticks of the
// config a member started with) runs out sooner than the election timeout
// the lease is computed from. The leader holds its lease through one
// follower; the other has not heard it for longer than that timeout and
// votes for anyone. The first restarts and its timer runs out while the
// old leader's lease runs: it must not stand, as its own vote and the other
// follower's would elect it.
func TestCoreLeaseSurvivesRestartedCandidate(t *testing.T) {
	cfg := Config{HeartbeatInterval: 200 * time.Millisecond, ElectionTimeout: time.Second, ElectionTimeoutClockDriftMargin: 200 * time.Millisecond}
	n, cs := newCoreNet(t, 3, cfg)
	leader, f1, f2 := cs[0], cs[1], cs[2]
	if r := leader.command(actor.From{}, commandReq{Arg: mustEncode(t, int64(5))}); r != actor.NoReply {
		t.Fatalf("command: %v", r)
	}
	n.advance(time.Second, cfg.HeartbeatInterval)
	next := Config{HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: 2 * time.Second, ElectionTimeoutClockDriftMargin: 400 * time.Millisecond}
	hb := next.HeartbeatInterval
	if r := leader.changeConfig(actor.From{}, changeConfigReq{Config: next}); r != actor.NoReply {
		t.Fatalf("change config: %v", r)
	}
	n.advance(2*time.Second, hb)
	n.cutLinks[[2]uint64{leader.id, f2.id}] = true
	n.advance(next.ElectionTimeout+500*time.Millisecond, hb)
	if leader.state != raft.StateLeader || f2.state == raft.StateLeader {
		t.Fatalf("leader %v, f2 %v", leader.state, f2.state)
	}
	if r := leader.queryReq(actor.From{}, queryReq{Arg: mustEncode(t, "")}, n.now); r != int64(5) {
		t.Fatalf("query under lease: %v", r)
	}
	leaseEnd := leader.leaseUntil
	n.cut[leader.id] = true
	f1 = n.restart(f1)
	for n.now.Before(leaseEnd.Add(5 * time.Second)) {
		n.advance(hb, hb)
		if f1.state != raft.StateLeader && f2.state != raft.StateLeader {
			continue
		}
		if !n.now.Before(leaseEnd) {
			return
		}
		t.Fatalf("new leader elected %v before the old lease ends", leaseEnd.Sub(n.now))
	}
	t.Fatal("no new leader")
}
