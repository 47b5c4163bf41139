package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Rafted: a 3-member rafted group, one member per node, the three nodes in
// this one OS process, distributed over the in-memory network
// (transport.NewNetwork, "memory") or loopback TCP ("tcp").
//
//   - BenchmarkRaftedCommand: clients goroutines on the leader's node call
//     rafted.Command on the leader until b.N commands are committed and
//     applied; one op is one command; reports cmds/s.
//   - BenchmarkRaftedQuery: one goroutine calls rafted.Query on the leader,
//     with a leader lease (lease: answered locally) and without one
//     (readindex: each query waits for a heartbeat round to a majority);
//     reports ns/op and the p50/p99 latency of single queries.
//   - BenchmarkBareRaft: the ceiling, three etcd raft RawNodes on
//     MemoryStorage in one goroutine, messages handed over directly, no gotp,
//     no encoding, no persistence; clients is the number of proposals kept in
//     flight.

// raftedClients is the number of concurrent callers (or proposals in flight).
var raftedClients = []int{1, 64}

// raftedCounter is the replicated value: one int64, Command adds its int64
// argument and returns the sum, Query returns it.
type raftedCounter struct{ n int64 }

func newRaftedCounter() rafted.Data { return &raftedCounter{} }

func (c *raftedCounter) Command(arg any) any {
	d, _ := arg.(int64)
	c.n += d
	return c.n
}

func (c *raftedCounter) Query(any) any { return c.n }

func (c *raftedCounter) Snapshot() ([]byte, error) {
	return binary.AppendVarint(nil, c.n), nil
}

func (c *raftedCounter) Restore(b []byte) error {
	v, n := binary.Varint(b)
	if n <= 0 {
		return errors.New("bench: bad counter snapshot")
	}
	c.n = v
	return nil
}

// raftedGroup is three nodes, each with its distribution layer and one
// member of one group; member 0 (on node 0) created the group and leads it.
type raftedGroup struct {
	nodes   []*actor.Node
	remotes []*remote.Remote
	members []*rafted.Member
}

// newRaftedGroup starts three nodes on the given network ("memory" or "tcp")
// and a 3-member group on them with configuration cfg.
func newRaftedGroup(tb testing.TB, network string, cfg rafted.Config) *raftedGroup {
	tb.Helper()
	g := &raftedGroup{}
	var mem *transport.Network
	if network == "memory" {
		mem = transport.NewNetwork(1)
	}
	for i := range 3 {
		name := fmt.Sprintf("rafted%d@localhost", i+1)
		n, err := actor.NewNode(actor.Config{Name: name, Logger: discard})
		if err != nil {
			tb.Fatal(err)
		}
		rcfg := remote.Config{Cookie: "bench-rafted", Logger: discard}
		if mem != nil {
			rcfg.Transport = mem.Transport(name)
			rcfg.Listen = []string{name}
			rcfg.Resolve = func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }
		} else {
			rcfg.Listen = []string{"127.0.0.1:0"}
		}
		r, err := remote.Start(n, rcfg)
		if err != nil {
			tb.Fatal(err)
		}
		g.nodes = append(g.nodes, n)
		g.remotes = append(g.remotes, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, r := range g.remotes {
		for j, o := range g.remotes {
			if i != j {
				r.Learn(o.Spec())
			}
		}
	}
	for i, r := range g.remotes {
		for j := i + 1; j < len(g.remotes); j++ {
			if err := r.Connect(ctx, g.remotes[j].Spec()); err != nil {
				tb.Fatal(err)
			}
		}
	}
	first, err := rafted.Start(ctx, g.nodes[0], rafted.Options{NewData: newRaftedCounter, Create: &cfg, Name: "rv"})
	if err != nil {
		tb.Fatal(err)
	}
	g.members = append(g.members, first)
	for i := 1; i < 3; i++ {
		m, err := rafted.Start(ctx, g.nodes[i], rafted.Options{
			NewData: newRaftedCounter, Join: []rafted.Server{first.Server()}, Name: "rv",
		})
		if err != nil {
			tb.Fatal(err)
		}
		g.members = append(g.members, m)
	}
	return g
}

func (g *raftedGroup) stop(tb testing.TB) {
	for _, r := range g.remotes {
		r.Stop()
	}
	for _, n := range g.nodes {
		stopGotpNode(tb, n)
	}
}

// raftedCommand: clients goroutines share count commands to the leader.
func raftedCommand(tb testing.TB, network string, clients int) harness {
	g := newRaftedGroup(tb, network, rafted.Config{})
	leader := g.members[0].Server()
	n := g.nodes[0]
	arg := int64(1)
	return harness{
		run: func(count int) {
			var next atomic.Int64
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for next.Add(1) <= int64(count) {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						_, err := rafted.Command(ctx, n, leader, arg, "")
						cancel()
						if err != nil {
							tb.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		},
		stop: func() { g.stop(tb) },
	}
}

func BenchmarkRaftedCommand(b *testing.B) {
	for _, network := range []string{"memory", "tcp"} {
		for _, clients := range raftedClients {
			b.Run(fmt.Sprintf("%s/clients=%d", network, clients), func(b *testing.B) {
				runHarness(b, raftedCommand(b, network, clients), 1, "cmds/s")
			})
		}
	}
}

// raftedQueryModes are BenchmarkRaftedQuery's sub-benchmarks: the group's
// configuration with a leader lease (a 700 ms lease: 1 s election timeout
// minus a 100 ms clock drift margin minus the 200 ms heartbeat interval)
// and without (the default: every query goes through ReadIndex).
var raftedQueryModes = []struct {
	name string
	cfg  rafted.Config
}{
	{"lease", rafted.Config{ElectionTimeoutClockDriftMargin: 100 * time.Millisecond}},
	{"readindex", rafted.Config{}},
}

// raftedQuery: one goroutine makes count queries to the leader, one after
// another; each query's latency is appended to *lat when lat is not nil.
func raftedQuery(tb testing.TB, cfg rafted.Config, lat *[]time.Duration) harness {
	g := newRaftedGroup(tb, "memory", cfg)
	leader := g.members[0].Server()
	n := g.nodes[0]
	// One committed command, so the leader has applied an entry of its term
	// and answers queries.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := rafted.Command(ctx, n, leader, int64(1), "")
	cancel()
	if err != nil {
		tb.Fatal(err)
	}
	return harness{
		run: func(count int) {
			for range count {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				start := time.Now()
				_, err := rafted.Query(ctx, n, leader, "")
				d := time.Since(start)
				cancel()
				if err != nil {
					tb.Error(err)
					return
				}
				if lat != nil {
					*lat = append(*lat, d)
				}
			}
		},
		stop: func() { g.stop(tb) },
	}
}

func BenchmarkRaftedQuery(b *testing.B) {
	for _, mode := range raftedQueryModes {
		b.Run(mode.name, func(b *testing.B) {
			var lat []time.Duration
			runHarness(b, raftedQuery(b, mode.cfg, &lat), 1, "queries/s")
			if len(lat) > 0 {
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			}
		})
	}
}

// bareRaftLog silences etcd raft's logger.
var bareRaftLog = &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)}

// bareRaft is three RawNodes on MemoryStorage driven by one goroutine:
// pump handles every Ready and hands each message straight to its
// recipient's Step until nothing is left to do.
type bareRaft struct {
	nodes   []*raft.RawNode
	stores  []*raft.MemoryStorage
	queue   []raftpb.Message
	applied int // non-empty normal entries applied by node 1 (the leader)
}

func newBareRaft(tb testing.TB) *bareRaft {
	tb.Helper()
	r := &bareRaft{}
	peers := []raft.Peer{{ID: 1}, {ID: 2}, {ID: 3}}
	for i := range peers {
		st := raft.NewMemoryStorage()
		rn, err := raft.NewRawNode(&raft.Config{
			ID: uint64(i + 1), ElectionTick: 10, HeartbeatTick: 1, Storage: st,
			MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, CheckQuorum: true, PreVote: true,
			Logger: bareRaftLog,
		})
		if err != nil {
			tb.Fatal(err)
		}
		if err := rn.Bootstrap(peers); err != nil {
			tb.Fatal(err)
		}
		r.nodes = append(r.nodes, rn)
		r.stores = append(r.stores, st)
	}
	r.pump()
	if err := r.nodes[0].Campaign(); err != nil {
		tb.Fatal(err)
	}
	r.pump()
	return r
}

func (r *bareRaft) pump() {
	for {
		progress := false
		for i, rn := range r.nodes {
			for rn.HasReady() {
				progress = true
				rd := rn.Ready()
				if !raft.IsEmptySnap(rd.Snapshot) {
					_ = r.stores[i].ApplySnapshot(rd.Snapshot)
				}
				_ = r.stores[i].Append(rd.Entries)
				if !raft.IsEmptyHardState(rd.HardState) {
					_ = r.stores[i].SetHardState(rd.HardState)
				}
				r.queue = append(r.queue, rd.Messages...)
				for _, e := range rd.CommittedEntries {
					switch {
					case e.Type == raftpb.EntryConfChange:
						var cc raftpb.ConfChange
						_ = cc.Unmarshal(e.Data)
						rn.ApplyConfChange(cc)
					case i == 0 && len(e.Data) > 0:
						r.applied++
					}
				}
				rn.Advance(rd)
			}
		}
		for len(r.queue) > 0 {
			progress = true
			m := r.queue[0]
			r.queue = r.queue[1:]
			_ = r.nodes[m.To-1].Step(m)
		}
		if !progress {
			return
		}
	}
}

// bareRaftHarness proposes count commands (24-byte payloads, about a
// rafted command's size) keeping up to clients in flight.
func bareRaftHarness(tb testing.TB, clients int) harness {
	r := newBareRaft(tb)
	data := make([]byte, 24)
	return harness{
		run: func(count int) {
			target := r.applied + count
			proposed := r.applied
			for r.applied < target {
				for proposed < target && proposed-r.applied < clients {
					if err := r.nodes[0].Propose(data); err != nil {
						tb.Fatal(err)
					}
					proposed++
				}
				r.pump()
			}
		},
		stop: func() {},
	}
}

func BenchmarkBareRaft(b *testing.B) {
	for _, clients := range raftedClients {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			runHarness(b, bareRaftHarness(b, clients), 1, "cmds/s")
		})
	}
}

// TestRaftedBenchSmoke runs each rafted harness at a small count, so that
// `go test` checks the benchmarks' code without running them.
func TestRaftedBenchSmoke(t *testing.T) {
	for _, network := range []string{"memory", "tcp"} {
		for _, clients := range raftedClients {
			t.Run(fmt.Sprintf("command/%s/clients=%d", network, clients), func(t *testing.T) {
				checkHarness(t, raftedCommand(t, network, clients), 200)
			})
		}
	}
	for _, mode := range raftedQueryModes {
		t.Run("query/"+mode.name, func(t *testing.T) {
			var lat []time.Duration
			checkHarness(t, raftedQuery(t, mode.cfg, &lat), 20)
			if len(lat) != 40 {
				t.Errorf("recorded %d latencies, want 40", len(lat))
			}
		})
	}
	for _, clients := range raftedClients {
		t.Run(fmt.Sprintf("bareraft/clients=%d", clients), func(t *testing.T) {
			checkHarness(t, bareRaftHarness(t, clients), 1000)
		})
	}
}
