package clusterlock_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

type tnode struct {
	*actor.Node
	r    *remote.Remote
	lock *clusterlock.Server
}

const tick = 4 * time.Second

func startNode(t *testing.T, net *transport.Network, name string) *tnode {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	r, err := remote.Start(n, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name}, NetTickTime: tick})
	if err != nil {
		t.Fatal(err)
	}
	s, err := clusterlock.Start(n, clusterlock.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		_ = n.Stop(context.Background())
	})
	return &tnode{Node: n, r: r, lock: s}
}

func cluster(t *testing.T, net *transport.Network, names ...string) []*tnode {
	t.Helper()
	var ns []*tnode
	for _, name := range names {
		ns = append(ns, startNode(t, net, name))
	}
	for i, a := range ns {
		for _, b := range ns[i+1:] {
			if err := a.r.Connect(t.Context(), b.r.Spec()); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ns
}

// idle spawns a process that does nothing until it is told to exit.
func idle(t *testing.T, n *tnode) actor.PID {
	t.Helper()
	pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		if err, ok := msg.(error); ok {
			return err
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

var all = []string{"a", "b", "c"}

func TestSecondHolderWaitsUntilRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(1), all...)
		h1, h2 := idle(t, ns[0]), idle(t, ns[1])
		lk, err := clusterlock.Acquire(t.Context(), ns[0], h1, "join", all)
		if err != nil {
			t.Fatal(err)
		}
		// A second holder times out while the first holds the lock, and
		// leaves nothing queued behind.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err = clusterlock.Acquire(ctx, ns[1], h2, "join", all)
		cancel()
		if !errors.Is(err, clusterlock.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("second acquire: %v, want ErrTimeout", err)
		}
		for _, n := range ns {
			info, err := n.lock.Info(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(info) != 1 || info[0].Holder != h1 || len(info[0].Waiting) != 0 {
				t.Fatalf("%s: %+v", n.Name(), info)
			}
		}
		// Waiting, it gets the lock as soon as the first lets go.
		got := make(chan error, 1)
		go func() {
			_, err := clusterlock.Acquire(t.Context(), ns[1], h2, "join", all)
			got <- err
		}()
		synctest.Wait()
		select {
		case err := <-got:
			t.Fatalf("acquired while held: %v", err)
		default:
		}
		lk.Release(t.Context(), ns[0])
		if err := <-got; err != nil {
			t.Fatal(err)
		}
		// Another lock ID is independent.
		if _, err := clusterlock.Acquire(t.Context(), ns[0], h1, "other", all); err != nil {
			t.Fatal(err)
		}
	})
}

func TestHolderDeathFreesTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(2), all...)
		h1, h2 := idle(t, ns[0]), idle(t, ns[2])
		if _, err := clusterlock.Acquire(t.Context(), ns[0], h1, "x", all); err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() {
			_, err := clusterlock.Acquire(t.Context(), ns[2], h2, "x", all)
			got <- err
		}()
		synctest.Wait()
		if err := ns[0].Send(h1, errors.New("crash")); err != nil {
			t.Fatal(err)
		}
		if err := <-got; err != nil {
			t.Fatalf("after holder death: %v", err)
		}
	})
}

func TestNodeLossFreesTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(3)
		ns := cluster(t, net, all...)
		hc, ha := idle(t, ns[2]), idle(t, ns[0])
		if _, err := clusterlock.Acquire(t.Context(), ns[2], hc, "x", all); err != nil {
			t.Fatal(err)
		}
		// c is cut off: a and b free its lock once they find it down; the
		// new holder acquires on the nodes it can reach.
		net.Isolate("c")
		time.Sleep(2 * tick)
		if _, err := clusterlock.Acquire(t.Context(), ns[0], ha, "x", []string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		// Asking for the lost node too fails with its error, and gives back
		// what it took on a and b.
		_, err := clusterlock.Acquire(t.Context(), ns[1], idle(t, ns[1]), "y", all)
		if !errors.Is(err, actor.ErrNoConnection) && !errors.Is(err, clusterlock.ErrTimeout) {
			t.Fatalf("acquire with a lost node: %v", err)
		}
		info, _ := ns[1].lock.Info(t.Context())
		for _, li := range info {
			if li.ID == "y" {
				t.Fatalf("y left held on b: %+v", li)
			}
		}
	})
}

func TestTransIsMutuallyExclusive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ns := cluster(t, transport.NewNetwork(4), all...)
		var mu sync.Mutex
		inside, most, runs := 0, 0, 0
		var wg sync.WaitGroup
		for i := range 9 {
			wg.Go(func() {
				n := ns[i%len(ns)]
				err := clusterlock.Trans(t.Context(), n.Node, "t", all, func(ctx context.Context) error {
					mu.Lock()
					inside++
					runs++
					most = max(most, inside)
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
					mu.Lock()
					inside--
					mu.Unlock()
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if most != 1 || runs != 9 {
			t.Fatalf("at most %d inside at once over %d runs, want 1 over 9", most, runs)
		}
		// An error of fn is Trans's, and the lock is free afterwards.
		boom := errors.New("boom")
		if err := clusterlock.Trans(t.Context(), ns[0].Node, "t", all, func(context.Context) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("trans: %v", err)
		}
		for _, n := range ns {
			if info, _ := n.lock.Info(t.Context()); len(info) != 0 {
				t.Fatalf("%s still holds %+v", n.Name(), info)
			}
		}
	})
}
