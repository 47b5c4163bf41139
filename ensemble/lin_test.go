package ensemble_test

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/gotp-dev/gotp/ensemble"
)

var (
	linSchedules = flag.Int("ensemble.schedules", 100, "seeded fault schedules of the minority partition suite")
	linOps       = flag.Int("ensemble.ops", 20, "operations per client in a minority partition schedule")
)

type linIn struct {
	put   bool
	key   string
	value int64
}

type linOut struct {
	unknown bool // a write that timed out: it may or may not have happened
	value   int64
}

// registerModel: one register per key (partitioned by key); a missing key
// reads 0.
var registerModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(linIn).key
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
		s, in, out := state.(int64), input.(linIn), output.(linOut)
		if in.put {
			return true, in.value
		}
		return out.value == s, s
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(linIn), output.(linOut)
		if in.put {
			return fmt.Sprintf("kover(%s,%d) unknown=%v", in.key, in.value, out.unknown)
		}
		return fmt.Sprintf("kget(%s) -> %d", in.key, out.value)
	},
}

// TestMinorityPartition: an ensemble of five peers on five nodes, clients
// on three of them, and a seeded nemesis that cuts off a minority (with or
// without the leader) and heals. The majority serves, the minority times
// out, and every history — ending with reads after the last heal — is
// linearizable per key (porcupine), so nothing acknowledged is lost.
func TestMinorityPartition(t *testing.T) {
	servedSchedules, ran := 0, 0
	defer func() {
		t.Logf("%d of %d schedules served operations while a minority was cut off", servedSchedules, ran)
		if servedSchedules < ran/2 {
			t.Errorf("only %d of %d schedules served during a partition", servedSchedules, ran)
		}
	}()
	for s := range *linSchedules {
		seed := int64(1000 + s)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			ran++
			var history []porcupine.Operation
			var served int
			synctest.Test(t, func(t *testing.T) {
				history, served = runMinoritySchedule(t, seed)
			})
			if !porcupine.CheckOperations(registerModel, history) {
				for _, op := range history {
					t.Logf("client %d [%d,%d] %s", op.ClientId, op.Call, op.Return, registerModel.DescribeOperation(op.Input, op.Output))
				}
				t.Fatalf("history of %d operations is not linearizable", len(history))
			}
			if served > 0 {
				servedSchedules++
			}
		})
	}
}

func runMinoritySchedule(t *testing.T, seed int64) ([]porcupine.Operation, int) {
	c := newCluster(t, seed, 5, ensemble.Config{ReadMode: ensemble.ReadMode(seed % 2)})
	c.form()
	c.create("e", c.names...)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	start := time.Now()
	var (
		mu          sync.Mutex
		last        int64
		history     []porcupine.Operation
		partitioned bool
		minority    = map[string]bool{}
		served      int
	)
	stamp := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		last = max(last+1, int64(time.Since(start)))
		return last
	}
	record := func(op porcupine.Operation) {
		mu.Lock()
		history = append(history, op)
		mu.Unlock()
	}
	run := func(client int, node string, in linIn) {
		cl := c.svc(node).Client()
		ctx, cancel := ctxT(time.Second)
		defer cancel()
		call := stamp()
		mu.Lock()
		cut := partitioned && minority[node]
		during := partitioned
		mu.Unlock()
		var err error
		var out linOut
		if in.put {
			_, err = cl.KOver(ctx, "e", in.key, []byte(strconv.FormatInt(in.value, 10)))
		} else {
			var o ensemble.Object
			o, err = cl.KGet(ctx, "e", in.key)
			if err == nil && !o.NotFound {
				out.value, _ = strconv.ParseInt(string(o.Value), 10, 64)
			}
		}
		ret := stamp()
		if err != nil && !errors.Is(err, ensemble.ErrTimeout) {
			t.Errorf("client %d on %s: %v", client, node, err)
		}
		// A write cannot commit without a majority. (A read may: a leader
		// cut off answers from its lease until it runs out.)
		if err == nil && cut && in.put {
			mu.Lock()
			stillCut := partitioned && minority[node]
			mu.Unlock()
			if stillCut {
				t.Errorf("client %d on %s served in a minority: %+v", client, node, in)
			}
		}
		if err == nil && during {
			mu.Lock()
			served++
			mu.Unlock()
		}
		switch {
		case err == nil:
			record(porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
		case in.put:
			out.unknown = true
			record(porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: math.MaxInt64})
		}
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() { // the nemesis
		nrng := rand.New(rand.NewPCG(uint64(seed), 2))
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Duration(1000+nrng.IntN(3000)) * time.Millisecond):
			}
			cut := map[string]bool{}
			size := 1 + nrng.IntN(2)
			if l, ok := c.svc("n1").GetLeader("e"); ok && nrng.IntN(2) == 0 {
				cut[l] = true
			}
			for len(cut) < size {
				cut[c.names[nrng.IntN(len(c.names))]] = true
			}
			var in, out []string
			for _, n := range c.names {
				if cut[n] {
					in = append(in, n)
				} else {
					out = append(out, n)
				}
			}
			// The flag is up only while the cut is: an operation seen
			// under it started and ended with the minority cut off.
			c.net.Partition(in, out)
			mu.Lock()
			partitioned, minority = true, cut
			mu.Unlock()
			time.Sleep(time.Duration(2000+nrng.IntN(4000)) * time.Millisecond)
			mu.Lock()
			partitioned = false
			mu.Unlock()
			c.net.Heal()
		}
	})
	const clients = 3
	ops := *linOps
	var cwg sync.WaitGroup
	for cl := range clients {
		crng := rand.New(rand.NewPCG(uint64(seed), uint64(10+cl)))
		node := c.names[cl*2] // n1, n3, n5
		cwg.Go(func() {
			for i := range ops {
				in := linIn{put: crng.IntN(2) == 0, key: fmt.Sprint("k", crng.IntN(2)), value: int64(cl*1000 + i + 1)}
				run(cl, node, in)
				time.Sleep(time.Duration(crng.IntN(400)) * time.Millisecond)
			}
		})
	}
	cwg.Wait()
	close(done)
	wg.Wait()
	c.net.Heal()
	mu.Lock()
	partitioned = false
	mu.Unlock()
	// After the last heal every key reads back what the history allows.
	c.waitLeader("e", c.names)
	for _, k := range []string{"k0", "k1"} {
		ctx, cancel := ctxT(5 * time.Second)
		call := stamp()
		o, err := c.svc("n2").Client().KGet(ctx, "e", k)
		cancel()
		if err != nil {
			t.Fatalf("final read of %s: %v", k, err)
		}
		var v int64
		if !o.NotFound {
			v, _ = strconv.ParseInt(string(o.Value), 10, 64)
		}
		record(porcupine.Operation{ClientId: 99, Input: linIn{key: k}, Call: call, Output: linOut{value: v}, Return: stamp()})
	}
	_ = rng
	return history, served
}
