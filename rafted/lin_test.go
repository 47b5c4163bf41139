package rafted_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
)

var schedules = flag.Int("rafted.schedules", 12, "linearizability schedules per group size")

type linInput struct {
	put   bool
	key   string
	value int64
}

type linOutput struct {
	unknown bool // a put whose outcome is not known: it may or may not have happened
	value   int64
}

// registerModel: per-key registers; put returns the old value, get the
// current one.
var registerModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(linInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(int64), input.(linInput), output.(linOutput)
		if in.put {
			return out.unknown || out.value == s, in.value
		}
		return out.value == s, s
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(linInput), output.(linOutput)
		if in.put {
			return fmt.Sprintf("put(%s,%d) -> %d (unknown %v)", in.key, in.value, out.value, out.unknown)
		}
		return fmt.Sprintf("get(%s) -> %d", in.key, out.value)
	},
}

// TestLinearizable runs concurrent clients against 3- and 5-member groups
// on the in-memory network while a seeded nemesis partitions, drops,
// delays, and kills and restarts members (from their Dir), and checks every
// history with porcupine.
func TestLinearizable(t *testing.T) {
	for _, size := range []int{3, 5} {
		for s := range *schedules {
			seed := int64(100*size + s)
			t.Run(fmt.Sprintf("members=%d/seed=%d", size, seed), func(t *testing.T) {
				var history []porcupine.Operation
				synctest.Test(t, func(t *testing.T) {
					history = runSchedule(t, size, seed)
				})
				res, info := porcupine.CheckOperationsVerbose(registerModel, history, 30*time.Second)
				if res != porcupine.Ok {
					for _, part := range info.PartialLinearizations() {
						t.Logf("partial linearization: %d ops", len(part))
					}
					for _, op := range history {
						t.Logf("client %d [%d,%d] %s", op.ClientId, op.Call, op.Return, registerModel.DescribeOperation(op.Input, op.Output))
					}
					t.Fatalf("history of %d ops is not linearizable (%v)", len(history), res)
				}
				unknown := 0
				for _, op := range history {
					if op.Output.(linOutput).unknown {
						unknown++
					}
				}
				t.Logf("%d operations, %d of unknown outcome", len(history), unknown)
				if len(history) < 20 {
					t.Fatalf("only %d operations completed", len(history))
				}
			})
		}
	}
}

func runSchedule(t *testing.T, size int, seed int64) []porcupine.Operation {
	c := newCluster(t, seed, size)
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	ctx := context.Background()
	dirs := make([]string, size)
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	cfg := rafted.Config{ElectionTimeoutClockDriftMargin: 200 * time.Millisecond}
	if seed%2 == 1 {
		cfg = rafted.Config{} // no lease: reads by ReadIndex
	}
	var mu sync.Mutex // guards members (the nemesis restarts them)
	members := make([]actor.PID, size)
	m0, err := rafted.Start(ctx, c.node(0), rafted.Options{NewData: newKV, Create: &cfg, Name: "rv", Dir: dirs[0]})
	if err != nil {
		t.Fatal(err)
	}
	members[0] = m0.PID
	for i := 1; i < size; i++ {
		m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newKV, Join: []rafted.Server{m0.Server()}, Name: "rv", Dir: dirs[i]})
		if err != nil {
			t.Fatal(err)
		}
		members[i] = m.PID
	}
	start := time.Now()
	stamp := func() int64 { return int64(time.Since(start)) }

	const clients, opsPerClient = 5, 20
	var (
		hmu     sync.Mutex
		history []porcupine.Operation
		wg      sync.WaitGroup
	)
	for cl := range clients {
		crng := rand.New(rand.NewPCG(uint64(seed), uint64(cl)))
		clientNode := c.node(cl % size)
		wg.Go(func() {
			target := cl % size
			for i := range opsPerClient {
				in := linInput{put: crng.IntN(2) == 0, key: fmt.Sprint("k", crng.IntN(2)), value: int64(cl*1000 + i + 1)}
				call := stamp()
				id := fmt.Sprintf("c%d-%d", cl, i)
				deadline := time.Now().Add(8 * time.Second)
				var out linOutput
				done := false
				for !done && time.Now().Before(deadline) {
					name := rafted.ByName(c.names[target], "rv")
					actx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
					var r any
					var err error
					if in.put {
						r, err = rafted.Command(actx, clientNode, name, put(in.key, in.value), id)
					} else {
						r, err = rafted.Query(actx, clientNode, name, in.key)
					}
					cancel()
					if err == nil {
						out, done = linOutput{value: r.(int64)}, true
						break
					}
					if l, ok := leaderIndex(err, c); ok {
						target = l
						continue
					}
					target = (target + 1) % size
					time.Sleep(50 * time.Millisecond)
				}
				switch {
				case done:
					hmu.Lock()
					history = append(history, porcupine.Operation{ClientId: cl, Input: in, Call: call, Output: out, Return: stamp()})
					hmu.Unlock()
				case in.put:
					hmu.Lock()
					history = append(history, porcupine.Operation{ClientId: cl, Input: in, Call: call, Output: linOutput{unknown: true}, Return: math.MaxInt64})
					hmu.Unlock()
					return // a client with an op of unknown outcome stops
				}
				time.Sleep(time.Duration(crng.IntN(100)) * time.Millisecond)
			}
		})
	}

	// The nemesis: a seeded sequence of faults, at most a minority of
	// members down at once, healed at the end.
	stop := make(chan struct{})
	var nwg sync.WaitGroup
	nwg.Go(func() {
		down := map[int]bool{}
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(300+rng.IntN(500)) * time.Millisecond):
			}
			switch rng.IntN(8) {
			case 0:
				c.net.Heal()
			case 1:
				perm := rng.Perm(size)
				k := 1 + rng.IntN((size-1)/2)
				var a, b []string
				for j, p := range perm {
					if j < k {
						a = append(a, c.names[p])
					} else {
						b = append(b, c.names[p])
					}
				}
				c.net.Partition(a, b)
			case 2:
				c.net.Isolate(c.names[rng.IntN(size)])
			case 3:
				from, to := c.names[rng.IntN(size)], c.names[rng.IntN(size)]
				c.net.SetDrop(from, to, 0.2)
			case 4:
				from, to := c.names[rng.IntN(size)], c.names[rng.IntN(size)]
				c.net.SetDelay(from, to, time.Duration(rng.IntN(50))*time.Millisecond, 20*time.Millisecond)
			case 5:
				i := rng.IntN(size)
				if down[i] || len(down)+1 > (size-1)/2 {
					continue
				}
				mu.Lock()
				_ = c.node(i).Exit(members[i], actor.Kill)
				mu.Unlock()
				down[i] = true
			case 7: // kill whichever member leads
				mu.Lock()
				pids := slices.Clone(members)
				mu.Unlock()
				for i, pid := range pids {
					sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
					st, err := rafted.GetStatus(sctx, c.node(i), rafted.ByPID(pid))
					cancel()
					if err == nil && st.StateName == "leader" && !down[i] && len(down)+1 <= (size-1)/2 {
						_ = c.node(i).Exit(pid, actor.Kill)
						down[i] = true
						break
					}
				}
			case 6:
				for i := range down {
					m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newKV, Name: "rv", Dir: dirs[i]})
					if err != nil {
						t.Errorf("restart %d: %v", i, err)
						continue
					}
					mu.Lock()
					members[i] = m.PID
					mu.Unlock()
					delete(down, i)
				}
			}
		}
	})
	wg.Wait()
	close(stop)
	nwg.Wait()
	c.net.Heal()
	return history
}

// leaderIndex maps a NotLeaderError's leader to the index of its node.
func leaderIndex(err error, c *cluster) (int, bool) {
	var nl rafted.NotLeaderError
	if !errors.As(err, &nl) || nl.Leader.IsZero() {
		return 0, false
	}
	for i, n := range c.names {
		if n == nl.Leader.Node {
			return i, true
		}
	}
	return 0, false
}
