package rafted_test

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
)

var (
	schedules    = flag.Int("rafted.schedules", 12, "linearizability schedules per group size")
	opsPerClient = flag.Int("rafted.ops", 20, "operations per client in a linearizability schedule")
	// unguardedSchedules: lease schedules per group size run with the
	// vote guard off.
	unguardedSchedules = flag.Int("rafted.unguarded", 12, "linearizability schedules per group size with the vote guard off")
)

type linInput struct {
	put   bool
	boom  bool // a put whose command panics after setting the key (panicKV)
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
		if in.boom {
			return fmt.Sprintf("boom(%s,%d) -> panicked", in.key, in.value)
		}
		if in.put {
			return fmt.Sprintf("put(%s,%d) -> %d (unknown %v)", in.key, in.value, out.value, out.unknown)
		}
		return fmt.Sprintf("get(%s) -> %d", in.key, out.value)
	},
}

// TestLinearizable runs concurrent clients against 3- and 5-member groups
// on the in-memory network while a seeded nemesis partitions, drops,
// delays, kills and restarts members (from their Dir), restarts a follower
// at once while the leader holds a lease through it, changes the config
// under a lease, damages a member's Dir (a torn write it must cut, damage it
// must refuse), and clients send commands that panic; it checks every
// history with porcupine.
func TestLinearizable(t *testing.T) {
	for _, size := range []int{3, 5} {
		for s := range *schedules {
			seed := int64(100*size + s)
			t.Run(fmt.Sprintf("members=%d/seed=%d", size, seed), func(t *testing.T) {
				history, ok := checkSchedule(t, size, seed, nil)
				if !ok {
					for _, op := range history {
						t.Logf("client %d [%d,%d] %s", op.ClientId, op.Call, op.Return, registerModel.DescribeOperation(op.Input, op.Output))
					}
					t.Fatalf("history of %d ops is not linearizable", len(history))
				}
			})
		}
	}
}

// TestLinearizableUnguarded runs lease schedules with the vote guard and the
// config-change lease rule off (rafted.SetUnguarded): the follower restart
// and the config change under a lease must then let some schedule read a
// stale value, or those faults do not reach what the guard prevents.
func TestLinearizableUnguarded(t *testing.T) {
	unguardedKinds := []int{0, 8, 9}
	rafted.SetUnguarded(true)
	defer rafted.SetUnguarded(false)
	runs, violations, ops := 0, 0, 0
	for _, size := range []int{3, 5} {
		for s := range *unguardedSchedules {
			seed := int64(100*size + 2*s) // even: leases on
			t.Run(fmt.Sprintf("members=%d/seed=%d", size, seed), func(t *testing.T) {
				history, ok := checkSchedule(t, size, seed, unguardedKinds)
				runs++
				ops += len(history)
				if !ok {
					violations++
					t.Logf("history of %d ops is not linearizable, as expected without the guard", len(history))
				}
			})
		}
	}
	t.Logf("unguarded: %d of %d schedules not linearizable (%d ops)", violations, runs, ops)
	if violations == 0 {
		t.Fatalf("no violation in %d schedules with the guard off", runs)
	}
}

// checkSchedule runs one schedule and checks its history with porcupine.
func checkSchedule(t *testing.T, size int, seed int64, kinds []int) ([]porcupine.Operation, bool) {
	var history []porcupine.Operation
	synctest.Test(t, func(t *testing.T) {
		history = runSchedule(t, size, seed, kinds)
	})
	res, info := porcupine.CheckOperationsVerbose(registerModel, history, 30*time.Second)
	if res != porcupine.Ok {
		for _, part := range info.PartialLinearizations() {
			t.Logf("partial linearization: %d ops", len(part))
		}
		return history, false
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
	return history, true
}

// runSchedule runs one schedule; its nemesis picks among the fault kinds
// given, or among all.
func runSchedule(t *testing.T, size int, seed int64, kinds []int) []porcupine.Operation {
	const frame = 64 << 10
	c := newClusterFrame(t, seed, size, frame)
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
	m0, err := rafted.Start(ctx, c.node(0), rafted.Options{NewData: newPanicKV, Create: &cfg, Name: "rv", Dir: dirs[0], MaxFrameSize: frame})
	if err != nil {
		t.Fatal(err)
	}
	members[0] = m0.PID
	for i := 1; i < size; i++ {
		m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newPanicKV, Join: []rafted.Server{m0.Server()}, Name: "rv", Dir: dirs[i], MaxFrameSize: frame})
		if err != nil {
			t.Fatal(err)
		}
		members[i] = m.PID
	}
	restart := func(i int) error {
		m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newPanicKV, Name: "rv", Dir: dirs[i], MaxFrameSize: frame})
		if err != nil {
			return err
		}
		mu.Lock()
		members[i] = m.PID
		mu.Unlock()
		return nil
	}
	kill := func(i int) {
		mu.Lock()
		_ = c.node(i).Exit(members[i], actor.Kill)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond) // the member is gone, its files closed
	}
	leader := func() int {
		mu.Lock()
		pids := slices.Clone(members)
		mu.Unlock()
		for i, pid := range pids {
			sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			st, err := rafted.GetStatus(sctx, c.node(i), rafted.ByPID(pid))
			cancel()
			if err == nil && st.StateName == "leader" {
				return i
			}
		}
		return -1
	}
	start := time.Now()
	// stamp is the time since start, strictly increasing: time stands
	// still in the bubble, and a read that starts at the instant a write
	// returned still starts after it.
	var (
		smu  sync.Mutex
		last int64
	)
	stamp := func() int64 {
		smu.Lock()
		defer smu.Unlock()
		last = max(last+1, int64(time.Since(start)))
		return last
	}
	// While quiet is set (under mu) the clients start no operation, and
	// the nemesis waits for those under way to end: then nothing is
	// concurrent with its probe, and replication settles so that a
	// cut-off follower is as up to date as the leader when it stands for
	// election.
	var (
		quiet    chan struct{} // closed when the clients may go on
		drained  chan struct{} // closed when no operation is under way
		underWay int
	)
	opStart := func() {
		for {
			mu.Lock()
			ch := quiet
			if ch == nil {
				underWay++
				mu.Unlock()
				return
			}
			mu.Unlock()
			<-ch
		}
	}
	opEnd := func() {
		mu.Lock()
		underWay--
		if underWay == 0 && drained != nil {
			close(drained)
			drained = nil
		}
		mu.Unlock()
	}
	hush := func() {
		mu.Lock()
		quiet = make(chan struct{})
		ch := make(chan struct{})
		if underWay == 0 {
			close(ch)
		} else {
			drained = ch
		}
		mu.Unlock()
		<-ch
	}
	resume := func() {
		mu.Lock()
		close(quiet)
		quiet = nil
		mu.Unlock()
	}

	const clients = 5
	opsPerClient := *opsPerClient
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
				in.boom = in.put && crng.IntN(10) == 0
				opStart()
				if crng.IntN(20) == 0 {
					// An entry larger than a frame: refused, never applied,
					// and the group goes on.
					actx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
					_, err := rafted.Command(actx, clientNode, rafted.ByName(c.names[target], "rv"), put(in.key+strings.Repeat("x", frame), in.value), "")
					cancel()
					if err == nil {
						t.Errorf("client %d: an oversize command was applied", cl)
					}
				}
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
					switch {
					case in.boom:
						r, err = rafted.Command(actx, clientNode, name, []any{"boom", in.key, in.value}, id)
					case in.put:
						r, err = rafted.Command(actx, clientNode, name, put(in.key, in.value), id)
					default:
						r, err = rafted.Query(actx, clientNode, name, in.key)
					}
					cancel()
					if in.boom && errors.Is(err, rafted.ErrCommandPanicked) {
						// Applied (its result is the panic): the key is
						// set, the old value is not reported.
						out, done = linOutput{unknown: true}, true
						break
					}
					if err == nil && !in.boom {
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
					opEnd()
					return // a client with an op of unknown outcome stops
				}
				opEnd()
				time.Sleep(time.Duration(crng.IntN(100)) * time.Millisecond)
			}
		})
	}

	// probe is the nemesis as a client: it writes at the members writers in
	// turn, or at the leader one names, until one leads (as a client retries
	// at the leader it is sent to), then reads at member old, a leader that
	// was cut off, which must not answer from a stale lease.
	nemesisOps := 0
	probe := func(writers []int, old int) {
		nemesisOps++
		// A key of its own: no client's write of unknown outcome may
		// explain a stale read.
		key := fmt.Sprint("probe", nemesisOps)
		in := linInput{put: true, key: key, value: int64(100000 + nemesisOps)}
		id := fmt.Sprint("nemesis-", nemesisOps)
		call := stamp()
		var r any
		err := rafted.ErrNotLeader
		for try := 0; try < 20 && errors.Is(err, rafted.ErrNotLeader); try++ {
			if try > 0 {
				time.Sleep(50 * time.Millisecond)
			}
			writer := writers[try%len(writers)]
			if l, ok := leaderIndex(err, c); ok && l != old {
				writer = l
			}
			wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			r, err = rafted.Command(wctx, c.node(writer), rafted.ByName(c.names[writer], "rv"), put(in.key, in.value), id)
			cancel()
		}
		switch {
		case err == nil:
			hmu.Lock()
			history = append(history, porcupine.Operation{ClientId: clients, Input: in, Call: call, Output: linOutput{value: r.(int64)}, Return: stamp()})
			hmu.Unlock()
		case errors.Is(err, rafted.ErrNotLeader):
			// refused every time: not applied
		default:
			hmu.Lock()
			history = append(history, porcupine.Operation{ClientId: clients, Input: in, Call: call, Output: linOutput{unknown: true}, Return: math.MaxInt64})
			hmu.Unlock()
		}
		get := linInput{key: key}
		call = stamp()
		rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		q, err := rafted.Query(rctx, c.node(old), rafted.ByName(c.names[old], "rv"), get.key)
		cancel()
		if err == nil {
			hmu.Lock()
			history = append(history, porcupine.Operation{ClientId: clients + 1, Input: get, Call: call, Output: linOutput{value: q.(int64)}, Return: stamp()})
			hmu.Unlock()
		}
	}

	// The nemesis: a seeded sequence of faults, at most a minority of
	// members down at once, healed at the end.
	stop := make(chan struct{})
	var nwg sync.WaitGroup
	var cuts [][2]string // links cut by the lease-restart fault, restored by Heal
	var faults [11]int   // how often each fault kind ran
	nwg.Go(func() {
		down := map[int]bool{}
		configs := []rafted.Config{
			{HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: 2 * time.Second},
			{HeartbeatInterval: 200 * time.Millisecond, ElectionTimeout: time.Second},
			{HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: 500 * time.Millisecond},
		}
		// settle hushes the clients, heals the network (cuts, drops and
		// delays too), restarts the members that are down and waits until
		// every member holds what the leader holds. The caller resumes the
		// clients.
		settle := func() {
			c.net.Heal()
			for _, l := range cuts {
				c.net.SetDrop(l[0], l[1], 0)
			}
			cuts = nil
			for _, a := range c.names {
				for _, b := range c.names {
					c.net.SetDrop(a, b, 0)
					c.net.SetDelay(a, b, 0, 0)
				}
			}
			for i := range down {
				if err := restart(i); err != nil {
					t.Errorf("restart %d: %v", i, err)
					continue
				}
				delete(down, i)
			}
			hush()
			time.Sleep(1500 * time.Millisecond)
		}
		others := func(l int) []int {
			var out []int
			for _, j := range rng.Perm(size) {
				if j != l {
					out = append(out, j)
				}
			}
			return out
		}
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(300+rng.IntN(500)) * time.Millisecond):
			}
			kind := rng.IntN(len(faults))
			if len(kinds) > 0 {
				kind = kinds[rng.IntN(len(kinds))]
			}
			faults[kind]++
			switch kind {
			case 0:
				c.net.Heal()
				for _, l := range cuts {
					c.net.SetDrop(l[0], l[1], 0)
				}
				cuts = nil
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
					if err := restart(i); err != nil {
						t.Errorf("restart %d: %v", i, err)
						continue
					}
					delete(down, i)
				}
			case 8:
				// The schedule of TestCoreLeaseSurvivesFollowerRestart: with
				// every member up to date, the leader is cut off from a
				// minority of followers, which keep standing for election,
				// and holds its lease through the others. Then it is cut off
				// from all, and one of those it held its lease through
				// restarts at once: with it, the cut-off followers are a
				// majority that may elect a leader and write while the old
				// leader still answers the clients on its own node.
				settle()
				l := leader()
				if l < 0 {
					resume()
					continue
				}
				followers := others(l)
				candidates, granters := followers[:(size-1)/2], followers[(size-1)/2:]
				cut := func(to []int) {
					for _, j := range to {
						for _, link := range [][2]string{{c.names[l], c.names[j]}, {c.names[j], c.names[l]}} {
							c.net.SetDrop(link[0], link[1], 1)
							cuts = append(cuts, link)
						}
					}
				}
				cut(candidates)
				time.Sleep(time.Duration(1500+rng.IntN(1000)) * time.Millisecond)
				cut(granters)
				kill(granters[0])
				if err := restart(granters[0]); err != nil {
					t.Errorf("restart %d at once: %v", granters[0], err)
					down[granters[0]] = true
				}
				probe(followers, l)
				resume()
			case 9:
				// The schedule of TestCoreLeaseAfterChangeConfig: a config
				// change under the lease, with every member up to date, and
				// sometimes the leader then isolated; the others elect a
				// leader by the timers they run.
				settle()
				l := leader()
				if l < 0 {
					resume()
					continue
				}
				next := configs[rng.IntN(len(configs))]
				if cfg.ElectionTimeoutClockDriftMargin != 0 {
					next.ElectionTimeoutClockDriftMargin = next.ElectionTimeout / 5
				}
				mu.Lock()
				pid := members[l]
				mu.Unlock()
				cctx, cancel := context.WithTimeout(ctx, 400*time.Millisecond)
				err := rafted.ChangeConfig(cctx, c.node(l), rafted.ByPID(pid), next)
				cancel()
				if err == nil && rng.IntN(2) == 0 {
					// The lease is renewed under the new config.
					time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
					c.net.Isolate(c.names[l])
					probe(others(l), l)
				}
				resume()
			case 10:
				// A member's Dir is damaged while it is down.
				i := rng.IntN(size)
				if down[i] || len(down)+1 > (size-1)/2 {
					continue
				}
				kill(i)
				damageDir(t, rng, dirs[i], restart, i)
			}
		}
	})
	wg.Wait()
	close(stop)
	nwg.Wait()
	t.Logf("faults by kind: %v", faults)
	c.net.Heal()
	for _, l := range cuts {
		c.net.SetDrop(l[0], l[1], 0)
	}
	return history
}

// damageDir damages the Dir of member i, which is down, and restarts it. A
// torn write at the end of its log (what a crash mid-write leaves) is cut
// off and the member restarts. A changed byte with a whole record after it,
// or a log and snapshot deleted, must be refused with ErrDamagedDir; the
// files are then put back and the member restarts.
func damageDir(t *testing.T, rng *rand.Rand, dir string, restart func(int) error, i int) {
	path := filepath.Join(dir, "log")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read log: %v", err)
		return
	}
	snap, _ := os.ReadFile(filepath.Join(dir, "snap"))
	var ends []int // where each record ends
	for off := 0; off+8 <= len(good); {
		off += 8 + int(binary.BigEndian.Uint32(good[off:]))
		ends = append(ends, off)
	}
	kind := rng.IntN(3)
	if kind == 1 && len(ends) < 3 {
		kind = 0 // no record with a whole one after it but the header
	}
	switch kind {
	case 0: // a torn write
		torn := append([]byte{0, 0, 0, 200, 1, 2, 3}, make([]byte, rng.IntN(64))...)
		if err := os.WriteFile(path, append(slices.Clone(good), torn...), 0o644); err != nil {
			t.Errorf("write log: %v", err)
			return
		}
		if err := restart(i); err != nil {
			t.Errorf("restart %d after a torn write: %v", i, err)
		}
		return
	case 1: // a changed byte in a record that a whole record follows
		r := 1 + rng.IntN(len(ends)-2)
		pos := ends[r-1] + rng.IntN(ends[r]-ends[r-1])
		bad := slices.Clone(good)
		bad[pos] ^= byte(1 + rng.IntN(255))
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Errorf("write log: %v", err)
			return
		}
	case 2: // the log and the snapshot are gone
		_ = os.Remove(path)
		_ = os.Remove(filepath.Join(dir, "snap"))
	}
	if err := restart(i); !errors.Is(err, rafted.ErrDamagedDir) {
		t.Errorf("restart %d from a damaged Dir (kind %d): %v", i, kind, err)
		return
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Errorf("write log: %v", err)
		return
	}
	if snap != nil {
		if err := os.WriteFile(filepath.Join(dir, "snap"), snap, 0o644); err != nil {
			t.Errorf("write snap: %v", err)
			return
		}
	}
	if err := restart(i); err != nil {
		t.Errorf("restart %d after repair: %v", i, err)
	}
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
