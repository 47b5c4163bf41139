package rafted_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/rafted"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// BenchmarkCommand measures committed commands per second on a 3-member
// group, one member per node over the in-memory network, with 1 and 64
// concurrent clients calling the leader.
func BenchmarkCommand(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			c := newCluster(b, 1, 3)
			ms := c.group(3, rafted.Config{})
			leader := ms[0].Server()
			n := c.node(0)
			arg := add("x", 1)
			b.ReportAllocs()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						_, err := rafted.Command(ctx, n, leader, arg, "")
						cancel()
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
		})
	}
}

// BenchmarkBareRaft is the ceiling for BenchmarkCommand: three etcd raft
// RawNodes on MemoryStorage in one goroutine, messages handed over directly,
// no gotp, no encoding, no persistence. clients is the number of proposals
// kept in flight.
func BenchmarkBareRaft(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			const size = 3
			peers := []raft.Peer{{ID: 1}, {ID: 2}, {ID: 3}}
			nodes := make([]*raft.RawNode, size)
			stores := make([]*raft.MemoryStorage, size)
			for i := range nodes {
				stores[i] = raft.NewMemoryStorage()
				rn, err := raft.NewRawNode(&raft.Config{
					ID: uint64(i + 1), ElectionTick: 10, HeartbeatTick: 1, Storage: stores[i],
					MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256, CheckQuorum: true, PreVote: true,
					Logger: &raft.DefaultLogger{Logger: discardLog},
				})
				if err != nil {
					b.Fatal(err)
				}
				if err := rn.Bootstrap(peers); err != nil {
					b.Fatal(err)
				}
				nodes[i] = rn
			}
			var queue []raftpb.Message
			applied := 0
			pump := func() {
				for {
					progress := false
					for i, rn := range nodes {
						for rn.HasReady() {
							progress = true
							rd := rn.Ready()
							if !raft.IsEmptySnap(rd.Snapshot) {
								_ = stores[i].ApplySnapshot(rd.Snapshot)
							}
							_ = stores[i].Append(rd.Entries)
							if !raft.IsEmptyHardState(rd.HardState) {
								_ = stores[i].SetHardState(rd.HardState)
							}
							queue = append(queue, rd.Messages...)
							for _, e := range rd.CommittedEntries {
								if e.Type == raftpb.EntryConfChange {
									var cc raftpb.ConfChange
									_ = cc.Unmarshal(e.Data)
									rn.ApplyConfChange(cc)
								} else if i == 0 && len(e.Data) > 0 {
									applied++
								}
							}
							rn.Advance(rd)
						}
					}
					for len(queue) > 0 {
						progress = true
						m := queue[0]
						queue = queue[1:]
						_ = nodes[m.To-1].Step(m)
					}
					if !progress {
						return
					}
				}
			}
			pump()
			_ = nodes[0].Campaign()
			pump()
			data := make([]byte, 24)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			proposed := 0
			for applied < b.N {
				for proposed < b.N && proposed-applied < clients {
					if err := nodes[0].Propose(data); err != nil {
						b.Fatal(err)
					}
					proposed++
				}
				pump()
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
		})
	}
}
