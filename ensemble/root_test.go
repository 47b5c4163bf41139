package ensemble_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// rootMembers is the root ensemble's view on node n: its members, sorted.
func rootMembers(t *testing.T, s *ensemble.Service) []string {
	t.Helper()
	views, ok := s.GetViews(ensemble.RootEnsemble)
	if !ok {
		t.Fatal("no view of the root ensemble")
	}
	return views[0]
}

func checkMembers(t *testing.T, c *cluster, want []string, on ...string) {
	t.Helper()
	ctx, cancel := ctxT(time.Second)
	defer cancel()
	for _, n := range on {
		if m, err := c.svc(n).Members(ctx); err != nil || !slices.Equal(m, want) {
			t.Fatalf("members on %s: %v, %v; want %v", n, m, err, want)
		}
	}
}

// TestRootEnsembleHoldsTheClusterState: the cluster's members and its
// ensembles are kept by the root ensemble (riak_ensemble_root), whose
// peers run on the first RootMembers nodes: joins through different nodes
// at once are both kept, two creations of one id give one ensemble, a
// change needs a majority of the root, and the root replaces a removed
// member by another node.
func TestRootEnsembleHoldsTheClusterState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 31, 6, ensemble.Config{RootMembers: 3})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		if err := c.svc("n1").Enable(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rootMembers(t, c.svc("n1")); !slices.Equal(got, []string{"n1"}) {
			t.Fatalf("root after enable: %v", got)
		}
		for _, n := range []string{"n2", "n3"} {
			if err := c.svc(n).Join(ctx, "n1"); err != nil {
				t.Fatalf("join %s: %v", n, err)
			}
		}
		// Two joins at once, through two different nodes.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, j := range [][2]string{{"n4", "n1"}, {"n5", "n2"}} {
			wg.Go(func() { errs[i] = c.svc(j[0]).Join(ctx, j[1]) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		all := []string{"n1", "n2", "n3", "n4", "n5"}
		checkMembers(t, c, all, all...)
		c.waitLeader(ensemble.RootEnsemble, all)
		if got := rootMembers(t, c.svc("n5")); !slices.Equal(got, []string{"n1", "n2", "n3"}) {
			t.Fatalf("root members: %v", got)
		}
		if got := c.svc("n4").Ensembles(); !slices.Equal(got, []string{ensemble.RootEnsemble}) {
			t.Fatalf("ensembles: %v", got)
		}

		// One id created twice at once, on disjoint nodes: one creation wins.
		for i, peers := range [][]string{{"n1", "n2"}, {"n4", "n5"}} {
			wg.Go(func() { errs[i] = c.svc(peers[0]).CreateEnsemble(ctx, "e", peers, "") })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ensemble.ErrExists) {
			t.Fatalf("two creations of e: %v, %v", errs[0], errs[1])
		}
		won := [][]string{{"n1", "n2"}, {"n4", "n5"}}[slices.IndexFunc(errs, func(err error) bool { return err == nil })]
		if err := c.svc("n3").CreateEnsemble(ctx, "e", won, ensemble.MemoryBackend); err != nil {
			t.Fatalf("the creation of e on %v repeated: %v", won, err)
		}
		if err := c.svc("n1").CreateEnsemble(ctx, ensemble.RootEnsemble, []string{"n1"}, ""); !errors.Is(err, ensemble.ErrExists) {
			t.Fatalf("create root: %v", err)
		}

		// A minority of the root cannot change the cluster.
		c.net.Partition([]string{"n1", "n6"}, []string{"n2", "n3", "n4", "n5"})
		short, cancelShort := ctxT(5 * time.Second)
		if err := c.svc("n6").Join(short, "n1"); !errors.Is(err, ensemble.ErrTimeout) {
			t.Fatalf("join through a node cut off from the root's majority: %v", err)
		}
		cancelShort()
		c.net.Heal()
		ctx, cancel = ctxT(20 * time.Second)
		defer cancel()
		if err := c.svc("n6").Join(ctx, "n1"); err != nil {
			t.Fatalf("join after healing: %v", err)
		}
		synctest.Wait()
		all = append(all, "n6")
		checkMembers(t, c, all, all...)

		// A root member removed is replaced by the first node not in it.
		if err := c.svc("n3").Remove(ctx, "n2"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		rest := []string{"n1", "n3", "n4", "n5", "n6"}
		checkMembers(t, c, rest, rest...)
		c.waitLeader(ensemble.RootEnsemble, rest, "n2") // n2 may have led it
		if got := rootMembers(t, c.svc("n6")); !slices.Equal(got, []string{"n1", "n3", "n4"}) {
			t.Fatalf("root members after removing n2: %v", got)
		}

		// The state outlives the root's leader.
		leader, _ := c.svc("n1").GetLeader(ensemble.RootEnsemble)
		c.stopNode(leader)
		const via = "n5" // never a root member
		c.waitLeader(ensemble.RootEnsemble, []string{via}, leader)
		if err := c.svc(via).Remove(ctx, leader); err != nil {
			t.Fatalf("remove the lost root leader %s through %s: %v", leader, via, err)
		}
		synctest.Wait()
		left := slices.DeleteFunc(slices.Clone(rest), func(n string) bool { return n == leader })
		checkMembers(t, c, left, left...)
	})
}
