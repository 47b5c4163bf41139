package ensemble_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/ensemble"
)

// TestLease is riak_ensemble's lease suite: a leader whose followers are
// cut off answers reads from its lease until it runs out, and then times
// out; without trusting the lease it times out at once.
func TestLease(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mode       ensemble.ReadMode
		leaseReads bool
	}{
		{"trusted", ensemble.LeaseRead, true},
		{"untrusted", ensemble.QuorumRead, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, 12, 3, ensemble.Config{ReadMode: tc.mode})
				c.form()
				leader := c.create("e1", "n1", "n2", "n3")
				cl := c.svc(leader).Client()
				ctx, cancel := ctxT(5 * time.Second)
				defer cancel()
				if _, err := cl.KOver(ctx, "e1", "k", []byte("v")); err != nil {
					t.Fatal(err)
				}
				time.Sleep(600 * time.Millisecond) // a tick: the lease is renewed
				synctest.Wait()
				c.net.Partition([]string{leader}, others(c.names, leader))
				ctx2, cancel2 := ctxT(200 * time.Millisecond)
				defer cancel2()
				got, err := cl.KGet(ctx2, "e1", "k")
				if tc.leaseReads && (err != nil || string(got.Value) != "v") {
					t.Fatalf("read under the lease: %+v, %v", got, err)
				}
				if !tc.leaseReads && !errors.Is(err, ensemble.ErrTimeout) {
					t.Fatalf("quorum read with the followers cut off: %+v, %v", got, err)
				}
				time.Sleep(time.Second) // the lease runs out
				ctx3, cancel3 := ctxT(time.Second)
				defer cancel3()
				if got, err := cl.KGet(ctx3, "e1", "k"); !errors.Is(err, ensemble.ErrTimeout) {
					t.Fatalf("read after the lease: %+v, %v", got, err)
				}
			})
		})
	}
}

// TestLeadershipWatchers is riak_ensemble's leadership_watchers suite.
func TestLeadershipWatchers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 13, 3, ensemble.Config{})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		events := map[string]chan ensemble.LeaderStatus{}
		for _, n := range c.names {
			ch := make(chan ensemble.LeaderStatus, 16)
			events[n] = ch
			pid, err := c.nodes[n].Spawn(actor.Func(func(p *actor.Process, msg any) error {
				if s, ok := msg.(ensemble.LeaderStatus); ok {
					ch <- s
				}
				return nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := ctxT(time.Second)
			if err := c.svc(n).WatchLeaderStatus(ctx, "e1", pid); err != nil {
				t.Fatal(err)
			}
			cancel()
		}
		synctest.Wait()
		for _, n := range c.names {
			s := next(t, events[n])
			if s.Ensemble != "e1" || s.Node != n || s.Leading != (n == leader) {
				t.Fatalf("first status on %s: %+v (leader %s)", n, s, leader)
			}
		}
		c.net.Partition([]string{leader}, others(c.names, leader))
		newLeader := c.waitLeader("e1", others(c.names, leader), leader)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if s := next(t, events[newLeader]); !s.Leading || s.Node != newLeader {
			t.Fatalf("new leader's status: %+v", s)
		}
		if s := next(t, events[leader]); s.Leading {
			t.Fatalf("old leader's status: %+v", s)
		}
	})
}

// next is the next message on ch, failing the test after 10 s of fake
// time.
func next[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
	}
	var zero T
	return zero
}
