package rafted

import (
	"bytes"
	"encoding/gob"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"go.etcd.io/raft/v3"
)

// counterData is a minimal Data for core tests: commands add an int64.
type counterData struct{ n int64 }

func (d *counterData) Command(arg any) any { d.n += arg.(int64); return d.n }
func (d *counterData) Query(any) any       { return d.n }
func (d *counterData) Snapshot() ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(d.n)
	return b.Bytes(), err
}
func (d *counterData) Restore(b []byte) error { return gob.NewDecoder(bytes.NewReader(b)).Decode(&d.n) }

// coreNet wires cores directly: no processes, no clock but the test's.
type coreNet struct {
	t     *testing.T
	cores map[uint64]*core
	cut   map[uint64]bool // cores whose messages are dropped both ways
	// cutLinks: pairs of cores whose messages to each other are dropped.
	cutLinks map[[2]uint64]bool
	now      time.Time
}

func newCoreNet(t *testing.T, size int, cfg Config) (*coreNet, []*core) {
	n := &coreNet{t: t, cores: map[uint64]*core{}, cut: map[uint64]bool{}, cutLinks: map[[2]uint64]bool{}, now: time.Unix(1000, 0)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var cs []*core
	for i := range size {
		addr := memberAddr{PID: actor.PID{Node: "n", Creation: 1, ID: uint64(i + 1)}}
		in := coreInit{self: addr, id: raftID(addr), newData: func() Data { return &counterData{} }, log: log, groupConfig: cfg, now: n.now}
		if i == 0 {
			in.create = &cfg
		}
		c, err := newCore(in)
		if err != nil {
			t.Fatal(err)
		}
		c.now = n.now
		n.cores[c.id] = c
		cs = append(cs, c)
		if i > 0 {
			for _, promote := range []bool{false, true} {
				if r := cs[0].join(actor.From{}, joinReq{ID: c.id, Addr: addr, Promote: promote}); r != actor.NoReply {
					t.Fatalf("join (promote %v): %v", promote, r)
				}
				n.settle()
			}
		}
	}
	return n, cs
}

// settle delivers messages until none are left.
func (n *coreNet) settle() {
	for moved := true; moved; {
		moved = false
		for _, c := range n.cores {
			if err := c.process(); err != nil {
				n.t.Fatal(err)
			}
			out := c.out
			c.out, c.replies = nil, nil
			for _, o := range out {
				moved = true
				if n.cut[c.id] || n.cut[o.id] || n.cutLinks[[2]uint64{c.id, o.id}] || n.cutLinks[[2]uint64{o.id, c.id}] {
					continue
				}
				dst := n.cores[o.id]
				dst.now = n.now
				dst.step(c.self, o.msg)
			}
		}
	}
}

// restart replaces c by a new core started from what c has persisted
// (its storage's stable state), as a member restarted from its Dir.
func (n *coreNet) restart(c *core) *core {
	n.t.Helper()
	st := diskState{ID: c.id, Found: true}
	var err error
	if st.Hard, _, err = c.store.InitialState(); err != nil {
		n.t.Fatal(err)
	}
	if st.Snap, err = c.store.Snapshot(); err != nil {
		n.t.Fatal(err)
	}
	first, _ := c.store.FirstIndex()
	last, _ := c.store.LastIndex()
	if last >= first {
		if st.Ents, err = c.store.Entries(first, last+1, 1<<62); err != nil {
			n.t.Fatal(err)
		}
	}
	in := coreInit{self: c.self, id: c.id, stored: st, newData: c.newData, log: c.log, now: n.now}
	r, err := newCore(in)
	if err != nil {
		n.t.Fatal(err)
	}
	n.cores[c.id] = r
	return r
}

// advance ticks every core once per heartbeat interval for d.
func (n *coreNet) advance(d, hb time.Duration) {
	for end := n.now.Add(d); n.now.Before(end); {
		n.now = n.now.Add(hb)
		for _, c := range n.cores {
			c.now = n.now
			c.tick(n.now)
		}
		n.settle()
	}
}

func TestCoreLeaseEndsBeforeAnotherLeaderIsElected(t *testing.T) {
	cfg := Config{HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: time.Second, ElectionTimeoutClockDriftMargin: 100 * time.Millisecond}
	hb := cfg.HeartbeatInterval
	n, cs := newCoreNet(t, 3, cfg)
	leader := cs[0]
	if leader.state != raft.StateLeader {
		t.Fatalf("creator is %v", leader.state)
	}
	if r := leader.command(actor.From{}, commandReq{Arg: mustEncode(t, int64(5))}); r != actor.NoReply {
		t.Fatalf("command: %v", r)
	}
	n.advance(time.Second, hb)
	// Cut the leader off. Under its lease it answers locally.
	n.cut[leader.id] = true
	if r := leader.queryReq(actor.From{}, queryReq{Arg: mustEncode(t, "")}, n.now); r != int64(5) {
		t.Fatalf("query under lease: %v", r)
	}
	leaseEnd := leader.leaseUntil
	// Tick until another member leads; the old lease must be over by then.
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("no new leader")
		}
		n.advance(hb, hb)
		if cs[1].state == raft.StateLeader || cs[2].state == raft.StateLeader {
			break
		}
		if n.now.Before(leaseEnd) {
			if r := leader.queryReq(actor.From{}, queryReq{Arg: mustEncode(t, "")}, n.now); r != int64(5) {
				t.Fatalf("query under lease at %v: %v", n.now.Sub(leaseEnd), r)
			}
		}
	}
	if !n.now.After(leaseEnd) {
		t.Fatalf("new leader at %v, old lease until %v", n.now, leaseEnd)
	}
	if r := leader.queryReq(actor.From{}, queryReq{Arg: mustEncode(t, "")}, n.now); r == int64(5) {
		t.Fatal("old leader answered locally after its lease")
	}
}

func mustEncode(t testing.TB, v any) []byte {
	b, err := encodeValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
