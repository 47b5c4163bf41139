package ensemble_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/ensemble"
)

func TestCallWithoutDeadlineRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 4, 1, ensemble.Config{})
		c.form()
		c.create("e1", "n1")
		_, err := c.svc("n1").Client().KGet(context.Background(), "e1", "k")
		if !errors.Is(err, ensemble.ErrNoDeadline) {
			t.Fatalf("call without deadline: %v", err)
		}
	})
}

func TestNoLeaderTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 5, 3, ensemble.Config{})
		c.form()
		c.create("e1", "n1", "n2", "n3")
		c.net.Partition([]string{"n1"}, []string{"n2"}, []string{"n3"})
		time.Sleep(10 * time.Second) // every peer loses its leader
		for _, n := range c.names {
			ctx, cancel := ctxT(2 * time.Second)
			start := time.Now()
			_, err := c.svc(n).Client().KOver(ctx, "e1", "k", []byte("v"))
			cancel()
			if !errors.Is(err, ensemble.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("write on %s without a majority: %v", n, err)
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("write on %s took %v", n, time.Since(start))
			}
		}
		// An unknown ensemble is unavailable.
		ctx, cancel := ctxT(2 * time.Second)
		defer cancel()
		if _, err := c.svc("n1").Client().KGet(ctx, "nope", "k"); !errors.Is(err, ensemble.ErrUnavailable) {
			t.Fatalf("unknown ensemble: %v", err)
		}
	})
}

// TestClientWithoutPeers: a node that hosts no peer of any ensemble joins
// the cluster and serves K/V calls through its routers, also after a
// leader change.
func TestClientWithoutPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 6, 3, ensemble.Config{})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		s4 := c.addNode("n4")
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		if err := s4.Join(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		if l, ok := s4.GetLeader("e1"); !ok || l != leader {
			t.Fatalf("n4's leader of e1: %q %v, want %s", l, ok, leader)
		}
		if _, err := s4.Client().KOver(ctx, "e1", "k", []byte("v4")); err != nil {
			t.Fatal(err)
		}
		c.net.Partition([]string{leader}, others(c.names, leader))
		next := c.waitLeader("e1", append(others(c.names[:3], leader), "n4"), leader)
		ctx2, cancel2 := ctxT(5 * time.Second)
		defer cancel2()
		got, err := s4.Client().KGet(ctx2, "e1", "k")
		if err != nil || string(got.Value) != "v4" {
			t.Fatalf("kget from n4 after failover to %s: %+v, %v", next, got, err)
		}
	})
}

// TestForwardFromFollower: a request that reaches a follower's peer
// (its node's directory is stale) is forwarded to the leader.
func TestForwardFromFollower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 7, 3, ensemble.Config{})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		follower := others(c.names, leader)[0]
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		// Call the follower's peer the way the routers do.
		st, err := c.svc(follower).PeerStatus(ctx, follower, "e1")
		if err != nil || st.State != "follower" || st.Leader != leader {
			t.Fatalf("follower status %+v, %v", st, err)
		}
		if _, err := c.svc(follower).Client().KOver(ctx, "e1", "k", []byte("fwd")); err != nil {
			t.Fatal(err)
		}
		if got, err := c.svc(leader).Client().KGet(ctx, "e1", "k"); err != nil || string(got.Value) != "fwd" {
			t.Fatalf("kget on the leader: %+v, %v", got, err)
		}
	})
}

// TestLateReplyDropped: a caller that gave up never sees the answer that
// comes later.
func TestLateReplyDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 8, 3, ensemble.Config{})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		svc := c.svc(leader)
		got := make(chan any, 16)
		pid, err := c.nodes[leader].Spawn(actor.Func(func(p *actor.Process, msg any) error {
			if msg == "go" {
				ctx, cancel := ctxT(300 * time.Millisecond)
				defer cancel()
				_, err := svc.ClientFor(p).KOver(ctx, "e1", "k", []byte("late"))
				got <- err
				return nil
			}
			got <- msg
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		// The leader is cut off before it can commit.
		c.net.Partition([]string{leader}, others(c.names, leader))
		if err := c.nodes[leader].Send(pid, "go"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(time.Second)
		if err, _ := (<-got).(error); !errors.Is(err, ensemble.ErrTimeout) {
			t.Fatalf("write on a cut-off leader: %v", err)
		}
		c.net.Heal()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		select {
		case m := <-got:
			t.Fatalf("late message reached the caller: %#v", m)
		default:
		}
	})
}

func TestClusterMembership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 9, 4, ensemble.Config{})
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		if err := c.svc("n1").CreateEnsemble(ctx, "e", []string{"n1"}, ""); !errors.Is(err, ensemble.ErrNotEnabled) {
			t.Fatalf("create before enable: %v", err)
		}
		if err := c.svc("n1").Enable(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.svc("n2").Join(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		if err := c.svc("n3").Join(ctx, "n2"); err != nil {
			t.Fatal(err)
		}
		id1, _ := c.svc("n1").ClusterID(ctx)
		id3, _ := c.svc("n3").ClusterID(ctx)
		if id1 == "" || id1 != id3 {
			t.Fatalf("cluster ids %q %q", id1, id3)
		}
		synctest.Wait()
		for _, n := range []string{"n1", "n2", "n3"} {
			if m, err := c.svc(n).Members(ctx); err != nil || !slices.Equal(m, []string{"n1", "n2", "n3"}) {
				t.Fatalf("members on %s: %v, %v", n, m, err)
			}
		}
		// Another cluster is refused, both ways.
		if err := c.svc("n4").Enable(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.svc("n4").Join(ctx, "n1"); !errors.Is(err, ensemble.ErrOtherCluster) {
			t.Fatalf("join of another cluster: %v", err)
		}
		if err := c.svc("n1").CreateEnsemble(ctx, "e", []string{"n1", "n4"}, ""); !errors.Is(err, ensemble.ErrNotInCluster) {
			t.Fatalf("create on a node of another cluster: %v", err)
		}
		c.create("root2", "n1", "n2", "n3")
		ctx, cancel = ctxT(5 * time.Second) // create waited in fake time
		defer cancel()
		if err := c.svc("n1").CreateEnsemble(ctx, "root2", []string{"n1"}, ""); !errors.Is(err, ensemble.ErrExists) {
			t.Fatalf("create twice: %v", err)
		}
		if got := c.svc("n2").Ensembles(); !slices.Equal(got, []string{ensemble.RootEnsemble, "root2"}) {
			t.Fatalf("ensembles on n2: %v", got)
		}
		if err := c.svc("n1").Remove(ctx, "n3"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		for _, n := range []string{"n1", "n2"} {
			if m, err := c.svc(n).Members(ctx); err != nil || !slices.Equal(m, []string{"n1", "n2"}) {
				t.Fatalf("members on %s after remove: %v, %v", n, m, err)
			}
		}
		if err := c.svc("n1").Remove(ctx, "n3"); !errors.Is(err, ensemble.ErrNotInCluster) {
			t.Fatalf("remove twice: %v", err)
		}
	})
}

// TestUnreachableNodeReconnects: the connection to the leader's node is
// lost; a request from a node without peers times out while the node
// cannot be reached, and once it can, the next request dials it again and
// is served.
func TestUnreachableNodeReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 16, 3, ensemble.Config{})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		s4 := c.addNode("n4")
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		if err := s4.Join(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s4.Client().KOver(ctx, "e1", "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		// n4 cannot reach the leader's node for a moment (the others can).
		c.net.Partition([]string{"n4"}, []string{leader})
		c.net.Disconnect("n4", leader)
		ctx2, cancel2 := ctxT(time.Second)
		defer cancel2()
		if _, err := s4.Client().KOver(ctx2, "e1", "k", []byte("w")); !errors.Is(err, ensemble.ErrTimeout) {
			t.Fatalf("write while the leader's node is unreachable: %v", err)
		}
		c.net.Heal()
		ctx3, cancel3 := ctxT(5 * time.Second)
		defer cancel3()
		if _, err := s4.Client().KOver(ctx3, "e1", "k", []byte("x")); err != nil {
			t.Fatalf("write after the node is reachable again: %v", err)
		}
		if got, err := c.svc(leader).Client().KGet(ctx3, "e1", "k"); err != nil || string(got.Value) != "x" {
			t.Fatalf("kget on the leader: %+v, %v", got, err)
		}
	})
}
