package bench

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Ensemble: three nodes in this OS process on the in-memory network, each
// running the ensemble service.
//
//   - BenchmarkEnsembleKV: 64 client goroutines (spread over the three
//     nodes) make KOver calls on keys spread over the ensembles until b.N
//     are acknowledged; one op is one acknowledged write. ensembles=1 and
//     ensembles=16 are ensembles of three peers; rafted is one rafted group
//     of three members with the same versioned K/V state machine, called
//     on its leader. Reports ops/s and the p50/p99 latency of a write.
//     Ticks are 100 ms (follower timeout 3 s) so that setup is quick;
//     ticks do not pace writes.
//   - BenchmarkEnsembleIdle: 1,000 ensembles × 3 peers on 3 nodes with the
//     default timings, measured once all are quiescent: CPU of the whole
//     process per second of wall time (% of one core) and bytes on the
//     wire per second, over 10 s.
//   - BenchmarkEnsembleFailover: default timings; the leader's node is cut
//     off and the time until the first acknowledged write through another
//     node is reported (ms). Run with -benchtime=1x (each op takes seconds).

type ensembleBench struct {
	net   *transport.Network
	nodes []*actor.Node
	rems  []*remote.Remote
	svcs  []*ensemble.Service
	bytes atomic.Int64
}

func newEnsembleBench(tb testing.TB, cfg ensemble.Config) *ensembleBench {
	tb.Helper()
	e := &ensembleBench{net: transport.NewNetwork(1)}
	e.net.SetHook(func(_, _ string, frame []byte) ([]byte, bool) {
		e.bytes.Add(int64(len(frame)) + 4)
		return frame, true
	})
	cfg.Logger = discard
	for i := range 3 {
		name := fmt.Sprintf("ens%d", i+1)
		n, err := actor.NewNode(actor.Config{Name: name, Logger: discard})
		if err != nil {
			tb.Fatal(err)
		}
		r, err := remote.Start(n, remote.Config{Cookie: "bench-ensemble", Logger: discard,
			Transport: e.net.Transport(name), Listen: []string{name},
			Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
		if err != nil {
			tb.Fatal(err)
		}
		s, err := ensemble.Start(n, nil, cfg)
		if err != nil {
			tb.Fatal(err)
		}
		e.nodes, e.rems, e.svcs = append(e.nodes, n), append(e.rems, r), append(e.svcs, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.svcs[0].Enable(ctx); err != nil {
		tb.Fatal(err)
	}
	for _, s := range e.svcs[1:] {
		if err := s.Join(ctx, "ens1"); err != nil {
			tb.Fatal(err)
		}
	}
	return e
}

func (e *ensembleBench) names() []string { return []string{"ens1", "ens2", "ens3"} }

// create makes ensembles e0..e(n-1) and waits until every node knows each
// one's leader.
func (e *ensembleBench) create(tb testing.TB, n int) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("e%d", i)
		if err := e.svcs[i%3].CreateEnsemble(ctx, ids[i], e.names(), ""); err != nil {
			tb.Fatal(err)
		}
	}
	for _, id := range ids {
		for _, s := range e.svcs {
			for {
				if _, ok := s.GetLeader(id); ok {
					break
				}
				if ctx.Err() != nil {
					tb.Fatalf("no leader of %s", id)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	return ids
}

func (e *ensembleBench) stop() {
	for _, r := range e.rems {
		r.Stop()
	}
	for _, n := range e.nodes {
		_ = n.Stop(context.Background())
	}
}

var fastEnsembleConfig = ensemble.Config{Tick: 100 * time.Millisecond, FollowerTimeout: 3 * time.Second, Lease: 750 * time.Millisecond}

// kvLatencies runs count writes from clients goroutines with write and
// returns their latencies.
func kvLatencies(tb testing.TB, count, clients int, write func(client, i int) error) []time.Duration {
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for {
				i := next.Add(1)
				if i > int64(count) {
					break
				}
				start := time.Now()
				if err := write(cl, int(i)); err != nil {
					tb.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat
}

func reportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func BenchmarkEnsembleKV(b *testing.B) {
	const clients = 64
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("ensembles=%d", n), func(b *testing.B) {
			e := newEnsembleBench(b, fastEnsembleConfig)
			defer e.stop()
			ids := e.create(b, n)
			value := []byte("value")
			b.ReportAllocs()
			b.ResetTimer()
			lat := kvLatencies(b, b.N, clients, func(cl, i int) error {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, err := e.svcs[cl%3].Client().KOver(ctx, ids[i%len(ids)], fmt.Sprint("k", i%128), value)
				return err
			})
			b.StopTimer()
			b.ReportMetric(perSecond(b, b.N), "ops/s")
			reportLatencies(b, lat)
		})
	}
	b.Run("rafted", func(b *testing.B) {
		g := newRaftedGroupData(b, newRaftedKV)
		defer g.stop(b)
		leader := g.members[0].Server()
		value := []byte("value")
		b.ReportAllocs()
		b.ResetTimer()
		lat := kvLatencies(b, b.N, clients, func(cl, i int) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := rafted.Command(ctx, g.nodes[cl%3], leader, []any{fmt.Sprint("k", i%128), value}, "")
			return err
		})
		b.StopTimer()
		b.ReportMetric(perSecond(b, b.N), "ops/s")
		reportLatencies(b, lat)
	})
}

// raftedKV is ensemble's state machine as a rafted Data: versioned
// objects, a command []any{key, value} overwrites (kover).
type raftedKV struct {
	Objs map[string]ensemble.Object
	Seq  uint64
}

func newRaftedKV() rafted.Data { return &raftedKV{Objs: map[string]ensemble.Object{}} }

func (d *raftedKV) Command(arg any) any {
	a, _ := arg.([]any)
	if len(a) != 2 {
		return fmt.Errorf("bad command %v", arg)
	}
	key, _ := a[0].(string)
	value, _ := a[1].([]byte)
	d.Seq++
	d.Objs[key] = ensemble.Object{Key: key, Value: value, Epoch: 1, Seq: d.Seq}
	return d.Seq
}

func (d *raftedKV) Query(arg any) any {
	key, _ := arg.(string)
	return d.Objs[key].Value
}

func (d *raftedKV) Snapshot() ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(d)
	return buf.Bytes(), err
}

func (d *raftedKV) Restore(b []byte) error {
	return gob.NewDecoder(bytes.NewReader(b)).Decode(d)
}

// newRaftedGroupData is newRaftedGroup on the memory network with another
// Data.
func newRaftedGroupData(tb testing.TB, newData func() rafted.Data) *raftedGroup {
	tb.Helper()
	g := &raftedGroup{}
	mem := transport.NewNetwork(1)
	for i := range 3 {
		name := fmt.Sprintf("rkv%d", i+1)
		n, err := actor.NewNode(actor.Config{Name: name, Logger: discard})
		if err != nil {
			tb.Fatal(err)
		}
		r, err := remote.Start(n, remote.Config{Cookie: "bench-rafted-kv", Logger: discard,
			Transport: mem.Transport(name), Listen: []string{name},
			Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
		if err != nil {
			tb.Fatal(err)
		}
		g.nodes, g.remotes = append(g.nodes, n), append(g.remotes, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := rafted.Start(ctx, g.nodes[0], rafted.Options{NewData: newData, Create: &rafted.Config{}, Name: "rv"})
	if err != nil {
		tb.Fatal(err)
	}
	g.members = append(g.members, first)
	for i := 1; i < 3; i++ {
		m, err := rafted.Start(ctx, g.nodes[i], rafted.Options{NewData: newData, Join: []rafted.Server{first.Server()}, Name: "rv"})
		if err != nil {
			tb.Fatal(err)
		}
		g.members = append(g.members, m)
	}
	return g
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkEnsembleIdle(b *testing.B) {
	e := newEnsembleBench(b, ensemble.Config{})
	defer e.stop()
	ids := e.create(b, 1000)
	// Wait until every peer is quiescent.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, id := range ids {
		for i, n := range e.names() {
			for {
				st, err := e.svcs[i].PeerStatus(ctx, n, id)
				if err == nil && st.Quiescent {
					break
				}
				if ctx.Err() != nil {
					b.Fatalf("%s on %s never quiescent: %+v %v", id, n, st, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	const window = 10 * time.Second
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	var bytesSent int64
	for range b.N {
		c0, w0 := cpuTime(), e.bytes.Load()
		time.Sleep(window)
		cpu += cpuTime() - c0
		bytesSent += e.bytes.Load() - w0
	}
	b.StopTimer()
	secs := window.Seconds() * float64(b.N)
	b.ReportMetric(100*cpu.Seconds()/secs, "%core")
	b.ReportMetric(float64(bytesSent)/secs, "B/s")
}

func BenchmarkEnsembleFailover(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		e := newEnsembleBench(b, ensemble.Config{})
		e.create(b, 1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := e.svcs[0].Client().KOver(ctx, "e0", "k", []byte("v")); err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second) // quiescent
		leader, _ := e.svcs[0].GetLeader("e0")
		var rest []string
		for _, n := range e.names() {
			if n != leader {
				rest = append(rest, n)
			}
		}
		sort.Strings(rest)
		via := e.svcs[slices.Index(e.names(), rest[0])]
		b.StartTimer()
		start := time.Now()
		e.net.Partition([]string{leader}, rest)
		for {
			wctx, wcancel := context.WithTimeout(ctx, 500*time.Millisecond)
			_, err := via.Client().KOver(wctx, "e0", "k", []byte("after"))
			wcancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				b.Fatal("no write after failover")
			}
		}
		total += time.Since(start)
		b.StopTimer()
		cancel()
		e.stop()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "failover-ms")
}

// TestEnsembleBenchSmoke runs the K/V harness with a few writes.
func TestEnsembleBenchSmoke(t *testing.T) {
	e := newEnsembleBench(t, fastEnsembleConfig)
	defer e.stop()
	ids := e.create(t, 2)
	lat := kvLatencies(t, 200, 8, func(cl, i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := e.svcs[cl%3].Client().KOver(ctx, ids[i%2], "k", []byte("v"))
		return err
	})
	if len(lat) != 200 {
		t.Fatalf("%d writes", len(lat))
	}
}
