package ensemble_test

import (
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// others returns names without the given one.
func others(names []string, not string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == not })
}

// TestLeaderSuspended is riak_ensemble's basic suite: the leader's node is
// cut off, the others elect a new leader and keep every acknowledged
// write; once healed, the old leader's node follows again.
func TestLeaderSuspended(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 2, 3, ensemble.Config{})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		rest := others(c.names, leader)
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		o1, err := c.svc(rest[0]).Client().KOver(ctx, "e1", "k", []byte("before"))
		if err != nil {
			t.Fatal(err)
		}
		// Let the ensemble quiesce, then cut the leader off.
		time.Sleep(5 * time.Second)
		c.net.Partition([]string{leader}, rest)
		next := c.waitLeader("e1", rest, leader)
		if next == leader {
			t.Fatalf("leader %s kept", leader)
		}
		ctx2, cancel2 := ctxT(5 * time.Second)
		defer cancel2()
		cl := c.svc(rest[1]).Client()
		got, err := cl.KGet(ctx2, "e1", "k")
		if err != nil || string(got.Value) != "before" {
			t.Fatalf("kget after failover: %+v, %v", got, err)
		}
		// The fixed conditional update: the object read before the leader
		// change still updates the key, which nobody changed since.
		if _, err := cl.KUpdate(ctx2, "e1", "k", o1, []byte("after")); err != nil {
			t.Fatalf("kupdate with an object of the old epoch: %v", err)
		}
		// The old leader's node cannot serve: a minority.
		ctx3, cancel3 := ctxT(2 * time.Second)
		defer cancel3()
		if _, err := c.svc(leader).Client().KOver(ctx3, "e1", "k", []byte("minority")); !errors.Is(err, ensemble.ErrTimeout) {
			t.Fatalf("write on the cut-off node: %v", err)
		}
		c.net.Heal()
		time.Sleep(5 * time.Second)
		ctx4, cancel4 := ctxT(5 * time.Second)
		defer cancel4()
		got, err = c.svc(leader).Client().KGet(ctx4, "e1", "k")
		if err != nil || string(got.Value) != "after" {
			t.Fatalf("kget from the healed node: %+v, %v", got, err)
		}
	})
}

// TestQuiescence: an idle ensemble stops its heartbeats; a write wakes it.
func TestQuiescence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, 3, ensemble.Config{})
		c.form()
		c.create("e1", "n1", "n2", "n3")
		c.create("e2", "n1", "n2", "n3")
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		if _, err := c.svc("n2").Client().KOver(ctx, "e1", "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		ctx1, cancel1 := ctxT(5 * time.Second)
		defer cancel1()
		for _, n := range c.names {
			for _, e := range []string{"e1", "e2"} {
				st, err := c.svc("n1").PeerStatus(ctx1, n, e)
				if err != nil || !st.Quiescent {
					for _, m := range c.names {
						st, _ := c.svc("n1").PeerStatus(ctx1, m, e)
						t.Logf("%+v", st)
					}
					t.Fatalf("%s on %s not quiescent: %+v, %v", e, n, st, err)
				}
			}
		}
		// Idle: only the managers' heartbeats cross, one frame per node
		// pair per tick, whatever the number of ensembles.
		before := c.net.Stats().Sent
		time.Sleep(10 * time.Second)
		sent := c.net.Stats().Sent - before
		if perTick := float64(sent) / 20; perTick > 6*1.5 {
			t.Fatalf("%d frames in 10 s while idle (%.1f a tick)", sent, perTick)
		}
		ctx2, cancel2 := ctxT(5 * time.Second)
		defer cancel2()
		if _, err := c.svc("n3").Client().KOver(ctx2, "e1", "k", []byte("w")); err != nil {
			t.Fatal(err)
		}
		got, err := c.svc("n1").Client().KGet(ctx2, "e1", "k")
		if err != nil || string(got.Value) != "w" {
			t.Fatalf("kget after waking: %+v, %v", got, err)
		}
	})
}
