package ensemble_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// faulty is a backend factory whose backends, on the nodes given a fault,
// do not keep writes of keys that begin with "drop" (or another prefix): riak_ensemble's
// drop_put intercept, in which a follower acknowledges a put it never
// stores. The fault is per node; the node's name comes from the DataDir
// path the factory is given.
type faulty struct {
	mu     sync.Mutex
	faults map[string]fault   // node → its fault
	prefix map[string]string  // node → the keys it strikes (default "drop")
	hit    map[string]int     // node → writes not kept
	done   map[[2]string]bool // node, key: a once fault has struck
}

type fault int

const (
	keeps     fault = iota
	dropsOnce       // acknowledges the first write of each key and forgets it
	failsOnce       // fails the first write of each key with an error
	dropsAll        // acknowledges every such write and forgets it
)

func (f *faulty) set(node string, x fault) { f.setFor(node, x, "drop") }

// setFor gives node a fault for the keys that begin with prefix.
func (f *faulty) setFor(node string, x fault, prefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.faults == nil {
		f.faults, f.prefix, f.hit, f.done = map[string]fault{}, map[string]string{}, map[string]int{}, map[[2]string]bool{}
	}
	f.faults[node], f.prefix[node] = x, prefix
}

func (f *faulty) hits(node string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hit[node]
}

func (f *faulty) backend(dataDir string) ensemble.NewBackend {
	return func(ens, dir string) (ensemble.Backend, error) {
		b, err := ensemble.NewMemoryBackend(ens, dir)
		if err != nil {
			return nil, err
		}
		node, _, _ := strings.Cut(strings.TrimPrefix(dir, dataDir+"/"), "/")
		return &faultyBackend{Backend: b, f: f, node: node}, nil
	}
}

type faultyBackend struct {
	ensemble.Backend
	f    *faulty
	node string
}

var errDiskFull = errors.New("disk full")

func (b *faultyBackend) Put(o ensemble.Object) error {
	f := b.f
	f.mu.Lock()
	x := f.faults[b.node]
	struck := x != keeps && strings.HasPrefix(o.Key, f.prefix[b.node]) && (x == dropsAll || !f.done[[2]string{b.node, o.Key}])
	if struck {
		f.done[[2]string{b.node, o.Key}] = true
		f.hit[b.node]++
	}
	f.mu.Unlock()
	switch {
	case !struck:
		return b.Backend.Put(o)
	case x == failsOnce:
		return errDiskFull
	default:
		return nil // acknowledged, not kept
	}
}

// dropCluster is five nodes with an ensemble of five peers on the faulty
// backend, and its leader.
func dropCluster(t *testing.T, seed int64, f *faulty) (*cluster, string) {
	dir := t.TempDir()
	c := newCluster(t, seed, 5, ensemble.Config{DataDir: dir, Backends: map[string]ensemble.NewBackend{"faulty": f.backend(dir)}})
	c.form()
	ctx, cancel := ctxT(5 * time.Second)
	defer cancel()
	if err := c.svc("n1").CreateEnsemble(ctx, "e1", c.names, "faulty"); err != nil {
		t.Fatal(err)
	}
	return c, c.waitLeader("e1", c.names)
}

// TestDropWrite is riak_ensemble's drop_write suite: followers acknowledge
// a write their backends do not keep (or fail); the leader is cut off and
// a new one elected among them; the new leader still returns the value,
// and no read ever says the key is missing.
func TestDropWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &faulty{}
		c, leader := dropCluster(t, 21, f)
		rest := others(c.names, leader)
		f.set(rest[0], dropsOnce)
		f.set(rest[1], dropsOnce)
		f.set(rest[2], failsOnce)
		f.set(rest[3], failsOnce)
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		if _, err := c.svc(rest[0]).Client().KOver(ctx, "e1", "drop", []byte("test")); err != nil {
			t.Fatal(err)
		}
		if got, err := c.svc(leader).Client().KGet(ctx, "e1", "drop"); err != nil || string(got.Value) != "test" {
			t.Fatalf("kget at the leader: %+v, %v", got, err)
		}
		time.Sleep(2 * time.Second) // every follower has applied the write
		for _, n := range rest {
			if f.hits(n) == 0 {
				t.Fatalf("the backend on %s kept the write: the fault never struck", n)
			}
		}
		// The leader's own backend forgets a write: its caller is still
		// told the truth, and so is the next reader.
		f.setFor(leader, dropsOnce, "drop-at-leader")
		if o, err := c.svc(rest[1]).Client().KOver(ctx, "e1", "drop-at-leader", []byte("kept")); err != nil || string(o.Value) != "kept" {
			t.Fatalf("kover, the leader's backend forgetting it: %+v, %v", o, err)
		}
		if f.hits(leader) == 0 {
			t.Fatal("the leader's backend kept the write: the fault never struck")
		}
		mustRead(t, c.svc(leader).Client(), "drop-at-leader", "kept", leader)
		c.net.Partition([]string{leader}, rest)
		next := c.waitLeader("e1", rest, leader)
		mustRead(t, c.svc(rest[2]).Client(), "drop", "test", next)
		mustRead(t, c.svc(rest[3]).Client(), "drop-at-leader", "kept", next)
		c.net.Heal()
		mustRead(t, c.svc(leader).Client(), "drop", "test", c.waitLeader("e1", c.names))
	})
}

// TestDropWriteAlways: a follower whose backend never keeps the write
// cannot serve it; its peer stops rather than lead with a copy behind the
// log, and the other four (a majority without the cut-off leader: three)
// still serve the value.
func TestDropWriteAlways(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &faulty{}
		c, leader := dropCluster(t, 22, f)
		rest := others(c.names, leader)
		f.set(rest[0], dropsAll)
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		if _, err := c.svc(rest[1]).Client().KOver(ctx, "e1", "drop", []byte("test")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if f.hits(rest[0]) == 0 {
			t.Fatal("the fault never struck")
		}
		ctx, cancel = ctxT(time.Second)
		defer cancel()
		if st, err := c.svc(leader).PeerStatus(ctx, rest[0], "e1"); err == nil {
			t.Fatalf("the peer whose backend loses writes still runs: %+v", st)
		}
		c.net.Partition([]string{leader}, rest)
		next := c.waitLeader("e1", rest[1:], leader)
		mustRead(t, c.svc(rest[1]).Client(), "drop", "test", next)
	})
}

// mustRead reads key through cl, once the nodes it reads from know the
// leader (riak's read_until retries while leadership settles; waitLeader
// has waited for that): the answer must hold want, never a missing key.
func mustRead(t *testing.T, cl ensemble.Client, key, want, leader string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := cl.KGet(ctx, "e1", key)
	if err != nil {
		t.Fatalf("kget (leader %s): %v", leader, err)
	}
	if got.NotFound || string(got.Value) != want {
		t.Fatalf("kget (leader %s): %+v; want %q", leader, got, want)
	}
}
