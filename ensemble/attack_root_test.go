package ensemble_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// Joins at once through one node while the root has room: every Join
// succeeds, every node gets in, and the root takes exactly RootMembers of
// them, no more.
func TestAttackConcurrentJoinsFillTheRootExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 51, 7, ensemble.Config{RootMembers: 5})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		if err := c.svc("n1").Enable(ctx); err != nil {
			t.Fatal(err)
		}
		joining := []string{"n2", "n3", "n4", "n5", "n6", "n7"}
		var wg sync.WaitGroup
		errs := make([]error, len(joining))
		for i, n := range joining {
			wg.Go(func() { errs[i] = c.svc(n).Join(ctx, "n1") })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("join %s: %v", joining[i], err)
			}
		}
		synctest.Wait()
		all := append([]string{"n1"}, joining...)
		checkMembers(t, c, all, all...)
		leader := c.waitLeader(ensemble.RootEnsemble, all)
		st, err := c.svc("n1").PeerStatus(ctx, leader, ensemble.RootEnsemble)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Members) != 5 || len(st.OldMembers) != 0 || !slices.Contains(st.Members, "n1") {
			t.Fatalf("root members after six joins at once: %v (old %v)", st.Members, st.OldMembers)
		}
	})
}

// Two clusters enabled apart refuse each other, both ways, and a node of
// one cannot go over to the other; nobody's membership changes.
func TestAttackTwoClustersRefuseEachOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 52, 3, ensemble.Config{})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		for _, n := range []string{"n1", "n2"} {
			if err := c.svc(n).Enable(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.svc("n3").Join(ctx, "n1"); err != nil {
			t.Fatal(err)
		}
		for _, j := range [][2]string{{"n1", "n2"}, {"n2", "n1"}, {"n3", "n2"}, {"n2", "n3"}} {
			if err := c.svc(j[0]).Join(ctx, j[1]); !errors.Is(err, ensemble.ErrOtherCluster) {
				t.Fatalf("%s joins %s of another cluster: %v", j[0], j[1], err)
			}
		}
		if err := c.svc("n1").Enable(ctx); err == nil {
			t.Fatal("enable of an enabled node")
		}
		synctest.Wait()
		checkMembers(t, c, []string{"n1", "n3"}, "n1", "n3")
		checkMembers(t, c, []string{"n2"}, "n2")
		id1, _ := c.svc("n1").ClusterID(ctx)
		id2, _ := c.svc("n2").ClusterID(ctx)
		id3, _ := c.svc("n3").ClusterID(ctx)
		if id1 == "" || id1 == id2 || id1 != id3 {
			t.Fatalf("cluster ids %q %q %q", id1, id2, id3)
		}
		// The other cluster's nodes cannot be made peers of an ensemble.
		if err := c.svc("n1").CreateEnsemble(ctx, "e", []string{"n1", "n2"}, ""); !errors.Is(err, ensemble.ErrNotInCluster) {
			t.Fatalf("create on a node of another cluster: %v", err)
		}
	})
}

// The node that leads the root removes itself: the root goes on without it
// under a new leader, takes the spare node in its place, and the removed
// node can join again.
func TestAttackRootLeaderRemovesItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, all := formWithRoot(t, 53, 4, 3)
		leader, _ := c.svc("n1").GetLeader(ensemble.RootEnsemble)
		ctx, cancel := ctxT(20 * time.Second)
		defer cancel()
		if err := c.svc(leader).Remove(ctx, leader); err != nil {
			t.Fatalf("%s removes itself: %v", leader, err)
		}
		synctest.Wait()
		rest := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == leader })
		checkMembers(t, c, rest, append([]string{leader}, rest...)...)
		now := c.waitLeader(ensemble.RootEnsemble, rest, leader)
		st, err := c.svc(rest[0]).PeerStatus(ctx, now, ensemble.RootEnsemble)
		if err != nil || !slices.Equal(st.Members, rest) {
			t.Fatalf("root after its leader %s left: %+v, %v", leader, st, err)
		}
		// The cluster still changes: the removed node comes back.
		if err := c.svc(leader).Join(ctx, rest[0]); err != nil {
			t.Fatalf("%s joins again: %v", leader, err)
		}
		synctest.Wait()
		checkMembers(t, c, all, all...)
	})
}

// One creation made through three nodes at once, with the same arguments:
// every one of them succeeds, and the ensemble serves.
func TestAttackIdenticalCreationsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 54, 3, ensemble.Config{})
		c.form()
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i, n := range []string{"n1", "n2", "n3"} {
			// Order and repeats differ; the set is the same.
			peers := [][]string{{"n1", "n2"}, {"n2", "n1"}, {"n2", "n1", "n2"}}[i]
			wg.Go(func() { errs[i] = c.svc(n).CreateEnsemble(ctx, "e", peers, "") })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("identical creations: %v", errs)
		}
		c.waitLeader("e", []string{"n1", "n2", "n3"}) // a split vote of two peers can take seconds
		ctx, cancel = ctxT(5 * time.Second)
		defer cancel()
		if _, err := c.svc("n3").Client().KOver(ctx, "e", "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		// Another backend for the same id is a different creation.
		if err := c.svc("n3").CreateEnsemble(ctx, "e", []string{"n1", "n2"}, ensemble.FileBackend); !errors.Is(err, ensemble.ErrExists) {
			t.Fatalf("the same id with another backend: %v", err)
		}
	})
}

// A node cut off from the root's majority still answers Members from what
// it holds, and Join, Remove and CreateEnsemble through it end with
// ErrTimeout when ctx does, not later.
func TestAttackRootWithoutMajority(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 55, 4, ensemble.Config{RootMembers: 3})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		if err := c.svc("n1").Enable(ctx); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"n2", "n3"} {
			if err := c.svc(n).Join(ctx, "n1"); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		c.net.Partition([]string{"n1", "n4"}, []string{"n2", "n3"})
		three := []string{"n1", "n2", "n3"}
		checkMembers(t, c, three, "n1")
		ops := map[string]func(ctx2 context.Context) error{
			"join":   func(ctx2 context.Context) error { return c.svc("n4").Join(ctx2, "n1") },
			"remove": func(ctx2 context.Context) error { return c.svc("n1").Remove(ctx2, "n3") },
			"create": func(ctx2 context.Context) error { return c.svc("n1").CreateEnsemble(ctx2, "e", []string{"n1"}, "") },
		}
		for _, name := range []string{"join", "remove", "create"} {
			short, cancelShort := ctxT(2 * time.Second)
			start := time.Now()
			err := ops[name](short)
			took := time.Since(start)
			cancelShort()
			if !errors.Is(err, ensemble.ErrTimeout) {
				t.Fatalf("%s without the root's majority: %v", name, err)
			}
			if took > 2*time.Second+500*time.Millisecond {
				t.Fatalf("%s took %v past a 2 s deadline", name, took)
			}
		}
		checkMembers(t, c, three, "n1")
		c.net.Heal()
		ctx, cancel = ctxT(10 * time.Second)
		defer cancel()
		if err := c.svc("n4").Join(ctx, "n1"); err != nil {
			t.Fatalf("join after healing: %v", err)
		}
		synctest.Wait()
		checkMembers(t, c, []string{"n1", "n2", "n3", "n4"}, "n1", "n2", "n3", "n4")
	})
}

// A root member with a DataDir restarts and joins again: its root peer
// resumes, and is needed: with another root member down, the cluster still
// changes.
func TestAttackRestartedRootMemberJoinsAgain(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 56, 4, ensemble.Config{RootMembers: 3, DataDir: dir})
		ctx, cancel := ctxT(20 * time.Second)
		defer cancel()
		if err := c.svc("n1").Enable(ctx); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"n2", "n3"} {
			if err := c.svc(n).Join(ctx, "n1"); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		c.stopNode("n2")
		c.addNode("n2")
		if err := c.svc("n2").Join(ctx, "n1"); err != nil {
			t.Fatalf("the restarted n2 joins again: %v", err)
		}
		// Joining once more is a no-op.
		if err := c.svc("n2").Join(ctx, "n3"); err != nil {
			t.Fatalf("n2 joins a second time: %v", err)
		}
		three := []string{"n1", "n2", "n3"}
		checkMembers(t, c, three, three...)
		if _, err := c.svc("n2").PeerStatus(ctx, "n2", ensemble.RootEnsemble); err != nil {
			t.Fatalf("no root peer resumed on n2: %v", err)
		}
		c.stopNode("n3")
		if err := c.svc("n4").Join(ctx, "n2"); err != nil {
			t.Fatalf("join with n3 down, through the restarted n2: %v", err)
		}
		synctest.Wait()
		checkMembers(t, c, []string{"n1", "n2", "n3", "n4"}, "n1", "n2", "n4")
	})
}

// A Join and a Remove at once, through different nodes: both are kept, and
// the root replaces the removed member with a node of the cluster.
func TestAttackJoinRacesRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 57, 5, ensemble.Config{RootMembers: 3})
		ctx, cancel := ctxT(20 * time.Second)
		defer cancel()
		if err := c.svc("n1").Enable(ctx); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"n2", "n3", "n4"} {
			if err := c.svc(n).Join(ctx, "n1"); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { errs[0] = c.svc("n5").Join(ctx, "n1") })
		wg.Go(func() { errs[1] = c.svc("n3").Remove(ctx, "n2") })
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		rest := []string{"n1", "n3", "n4", "n5"}
		checkMembers(t, c, rest, rest...)
		leader := c.waitLeader(ensemble.RootEnsemble, rest, "n2")
		st, err := c.svc("n1").PeerStatus(ctx, leader, ensemble.RootEnsemble)
		if err != nil || len(st.Members) != 3 || slices.Contains(st.Members, "n2") {
			t.Fatalf("root after a join and a remove at once: %+v, %v", st, err)
		}
	})
}

// A Remove whose root change cannot be made in time (the node to take the
// removed one's place does not answer before ctx ends) is finished by
// calling it again; with more time, an unreachable node is passed over and
// the root does without it until a Join (here the same node's, again)
// brings it in.
func TestAttackRemoveFailedHalfWayCanBeFinished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := formWithRoot(t, 58, 5, 3)
		if got := rootMembers(t, c.svc("n1")); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
			t.Fatalf("root members: %v", got)
		}
		rootOf := func() []string {
			t.Helper()
			ctx, cancel := ctxT(10 * time.Second)
			defer cancel()
			leader := c.waitLeader(ensemble.RootEnsemble, []string{"n1", "n2"}, "n3")
			st, err := c.svc("n1").PeerStatus(ctx, leader, ensemble.RootEnsemble)
			if err != nil {
				t.Fatal(err)
			}
			return st.Members
		}
		c.net.Partition([]string{"n1", "n2", "n3", "n5"}, []string{"n4"})
		short, cancelShort := ctxT(2 * time.Second) // less than the wait for n4
		err := c.svc("n1").Remove(short, "n3")
		cancelShort()
		if err == nil {
			t.Fatal("Remove finished although its ctx ended while n4 was waited for")
		}
		c.net.Heal()
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		checkMembers(t, c, []string{"n1", "n2", "n4", "n5"}, "n1", "n2")
		if err := c.svc("n1").Remove(ctx, "n3"); err != nil {
			t.Fatalf("Remove repeated: %v", err)
		}
		if got := rootOf(); !slices.Equal(got, []string{"n1", "n2", "n4"}) {
			t.Fatalf("the root after the repeated Remove: %v", got)
		}
		// n5 cut off: removing n2, n5 is passed over and the root does with two.
		c.net.Partition([]string{"n1", "n2", "n4"}, []string{"n5"})
		if err := c.svc("n1").Remove(ctx, "n2"); err != nil {
			t.Fatalf("Remove with the only spare node cut off: %v", err)
		}
		c.net.Heal()
		leader := c.waitLeader(ensemble.RootEnsemble, []string{"n1", "n4"}, "n2")
		if st, err := c.svc("n1").PeerStatus(ctx, leader, ensemble.RootEnsemble); err != nil || !slices.Equal(st.Members, []string{"n1", "n4"}) {
			t.Fatalf("the root without its spare: %+v, %v", st, err)
		}
		if err := c.svc("n5").Join(ctx, "n1"); err != nil {
			t.Fatalf("n5 joins again: %v", err)
		}
		if st, err := c.svc("n1").PeerStatus(ctx, leader, ensemble.RootEnsemble); err != nil || !slices.Equal(st.Members, []string{"n1", "n4", "n5"}) {
			t.Fatalf("the root after n5 joined again: %+v, %v", st, err)
		}
	})
}

// A root member removed when there is no node to take its place leaves a
// smaller root; joining again brings it back into the root, and its new
// root peer counts: with another root member down, the cluster changes.
func TestAttackRemovedRootMemberJoinsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 59, 4, ensemble.Config{RootMembers: 3})
		ctx, cancel := ctxT(20 * time.Second)
		defer cancel()
		if err := c.svc("n1").Enable(ctx); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"n2", "n3"} {
			if err := c.svc(n).Join(ctx, "n1"); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.svc("n1").Remove(ctx, "n3"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		leader := c.waitLeader(ensemble.RootEnsemble, []string{"n1", "n2"}, "n3")
		if st, err := c.svc("n1").PeerStatus(ctx, leader, ensemble.RootEnsemble); err != nil || !slices.Equal(st.Members, []string{"n1", "n2"}) {
			t.Fatalf("root after removing n3: %+v, %v", st, err)
		}
		checkMembers(t, c, []string{"n1", "n2"}, "n1", "n2", "n3")
		if err := c.svc("n3").Join(ctx, "n2"); err != nil {
			t.Fatalf("the removed n3 joins again: %v", err)
		}
		synctest.Wait()
		three := []string{"n1", "n2", "n3"}
		checkMembers(t, c, three, three...)
		leader = c.waitLeader(ensemble.RootEnsemble, three)
		if st, err := c.svc("n1").PeerStatus(ctx, leader, ensemble.RootEnsemble); err != nil || !slices.Equal(st.Members, three) {
			t.Fatalf("root after n3 joined again: %+v, %v", st, err)
		}
		time.Sleep(3 * time.Second) // heartbeats bring n3's new root peer up to date
		if st, err := c.svc("n3").PeerStatus(ctx, "n3", ensemble.RootEnsemble); err != nil || len(st.Members) != 3 {
			t.Fatalf("n3's root peer after it joined again: %+v, %v", st, err)
		}
		// The root's majority needs n3's new peer now.
		down := "n1"
		if leader == "n1" {
			down = "n2"
		}
		c.stopNode(down)
		via := []string{"n1", "n2"}[0]
		if via == down {
			via = "n2"
		}
		if err := c.svc("n4").Join(ctx, via); err != nil {
			t.Fatalf("join with %s down: %v", down, err)
		}
	})
}

// Two root members removed at once, through two nodes: both leave the
// cluster and the root, which takes the two spare nodes in their place.
func TestAttackTwoRootMembersRemovedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, all := formWithRoot(t, 60, 5, 3)
		ctx, cancel := ctxT(20 * time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { errs[0] = c.svc("n4").Remove(ctx, "n1") })
		wg.Go(func() { errs[1] = c.svc("n5").Remove(ctx, "n2") })
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			short, cancelShort := ctxT(time.Second)
			defer cancelShort()
			for _, n := range all {
				st, serr := c.svc(n).PeerStatus(short, n, ensemble.RootEnsemble)
				t.Logf("root peer on %s: %s leader %s term %d members %v old %v, %v", n, st.State, st.Leader, st.Term, st.Members, st.OldMembers, serr)
			}
			for _, n := range all {
				v, _ := c.svc(n).View(ensemble.RootEnsemble)
				_, kerr := c.svc(n).Client().KGet(short, ensemble.RootEnsemble, "cluster")
				t.Logf("view of the root on %s: %+v; a read through it: %v", n, v, kerr)
			}
			t.Fatalf("remove n1 through n4: %v; remove n2 through n5: %v", errs[0], errs[1])
		}
		synctest.Wait()
		rest := []string{"n3", "n4", "n5"}
		checkMembers(t, c, rest, rest...)
		leader := c.waitLeader(ensemble.RootEnsemble, rest, "n1", "n2")
		if st, err := c.svc("n3").PeerStatus(ctx, leader, ensemble.RootEnsemble); err != nil || !slices.Equal(st.Members, rest) {
			t.Fatalf("root after two removals at once: %+v, %v", st, err)
		}
	})
}

// Enable twice at once on one node: one cluster, both calls succeed or
// the second says it is enabled; never two cluster ids.
func TestAttackEnableTwiceAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 61, 1, ensemble.Config{})
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { errs[i] = c.svc("n1").Enable(ctx) })
		}
		wg.Wait()
		if errs[0] != nil && errs[1] != nil {
			t.Fatalf("both enables failed: %v", errs)
		}
		id, err := c.svc("n1").ClusterID(ctx)
		if err != nil || id == "" {
			t.Fatalf("cluster id %q, %v", id, err)
		}
		checkMembers(t, c, []string{"n1"}, "n1")
		if err := c.svc("n1").CreateEnsemble(ctx, "e", []string{"n1"}, ""); err != nil {
			t.Fatal(err)
		}
	})
}

// Calls on a node in no cluster, and a Join through a node that does not
// exist, end at once or with ctx, with the errors the API names.
func TestAttackCallsOutsideACluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 62, 2, ensemble.Config{})
		ctx, cancel := ctxT(2 * time.Second)
		defer cancel()
		s := c.svc("n2")
		if err := s.Join(ctx, "n1"); !errors.Is(err, ensemble.ErrNotEnabled) {
			t.Fatalf("join a node in no cluster: %v", err)
		}
		if err := s.CreateEnsemble(ctx, "e", []string{"n2"}, ""); !errors.Is(err, ensemble.ErrNotEnabled) {
			t.Fatalf("create outside a cluster: %v", err)
		}
		if m, err := s.Members(ctx); err != nil || len(m) != 0 {
			t.Fatalf("members outside a cluster: %v, %v", m, err)
		}
		start := time.Now()
		err := s.Join(ctx, "nowhere")
		if err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("join through a node that does not exist: %v after %v", err, time.Since(start))
		}
		if err := s.Remove(ctx, "n1"); !errors.Is(err, ensemble.ErrNotEnabled) {
			t.Fatalf("remove outside a cluster: %v", err)
		}
	})
}

// A peer removed from an ensemble and added again catches up and stays:
// replaying the log from the start, it passes the configuration that
// removed it before the one that adds it back, and must not stop there.
func TestAttackPeerRemovedAndAddedAgainStays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 63, 3, ensemble.Config{})
		c.form()
		c.create("e", "n1", "n2", "n3")
		ctx, cancel := ctxT(20 * time.Second)
		defer cancel()
		if err := c.svc("n1").UpdateMembers(ctx, "e", nil, []string{"n3"}); err != nil {
			t.Fatal(err)
		}
		c.waitLeader("e", []string{"n1", "n2"}, "n3")
		if err := c.svc("n1").UpdateMembers(ctx, "e", []string{"n3"}, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // heartbeats bring n3 up to date
		st, err := c.svc("n3").PeerStatus(ctx, "n3", "e")
		if err != nil {
			t.Fatalf("no peer of e on n3 after it was added again: %v", err)
		}
		if len(st.Members) != 3 {
			t.Fatalf("n3's peer after it was added again: %+v", st)
		}
	})
}

// formWithRoot forms a cluster of n nodes whose root has size members, and
// waits until every node agrees on the root's leader. It returns the
// nodes' names.
func formWithRoot(t *testing.T, seed int64, n, size int) (*cluster, []string) {
	t.Helper()
	c := newCluster(t, seed, n, ensemble.Config{RootMembers: size})
	c.form()
	all := slices.Clone(c.names)
	c.waitLeader(ensemble.RootEnsemble, all)
	return c, all
}
