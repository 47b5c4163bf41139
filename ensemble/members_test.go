package ensemble_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// TestExpand is riak_ensemble's expand suite: an ensemble of one grows to
// three, and the new peers hold what was written before.
func TestExpand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 10, 3, ensemble.Config{})
		c.form()
		c.create("e1", "n1")
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		s := c.svc("n1")
		if _, err := s.Client().KOver(ctx, "e1", "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateMembers(ctx, "e1", []string{"n2", "n3"}, nil); err != nil {
			ctx, cancel := ctxT(5 * time.Second)
			defer cancel()
			for _, n := range c.names {
				st, err := s.PeerStatus(ctx, n, "e1")
				t.Logf("%+v %v", st, err)
			}
			t.Fatalf("expand: %v", err)
		}
		synctest.Wait()
		for _, n := range c.names {
			if v, ok := c.svc(n).GetViews("e1"); !ok || len(v) != 1 || !slices.Equal(v[0], []string{"n1", "n2", "n3"}) {
				t.Fatalf("views on %s: %v %v", n, v, ok)
			}
		}
		if got, err := c.svc("n2").Client().KGet(ctx, "e1", "k", ensemble.ReadRepair()); err != nil || string(got.Value) != "v" {
			t.Fatalf("kget with read repair: %+v, %v", got, err)
		}
		// The new peers hold the data: without the first, they serve it.
		c.net.Partition([]string{"n1"}, []string{"n2", "n3"})
		c.waitLeader("e1", []string{"n2", "n3"}, "n1")
		ctx2, cancel2 := ctxT(5 * time.Second)
		defer cancel2()
		if got, err := c.svc("n3").Client().KGet(ctx2, "e1", "k"); err != nil || string(got.Value) != "v" {
			t.Fatalf("kget without the first peer: %+v, %v", got, err)
		}
	})
}

// TestReplaceMembers is riak_ensemble's replace_members suite: one change
// adds a peer and removes another (a joint configuration), the removed
// peer stops, the data stays.
func TestReplaceMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 11, 4, ensemble.Config{})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		c.waitLeader("e1", c.names) // n4, with no peer, has heard of it too
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		s := c.svc("n4")
		if _, err := s.Client().KOver(ctx, "e1", "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateMembers(ctx, "e1", []string{"n2"}, nil); !errors.Is(err, ensemble.ErrAlreadyMember) {
			t.Fatalf("add a member: %v", err)
		}
		if err := s.UpdateMembers(ctx, "e1", nil, []string{"n4"}); !errors.Is(err, ensemble.ErrNotMember) {
			t.Fatalf("remove a non-member: %v", err)
		}
		if err := s.UpdateMembers(ctx, "e1", []string{"n9"}, nil); !errors.Is(err, ensemble.ErrNotInCluster) {
			t.Fatalf("add a node out of the cluster: %v", err)
		}
		if err := s.UpdateMembers(ctx, "e1", []string{"n4"}, []string{leader}); err != nil {
			t.Fatalf("replace: %v", err)
		}
		want := append(others([]string{"n1", "n2", "n3"}, leader), "n4")
		slices.Sort(want)
		next := c.waitLeader("e1", want, leader)
		// The joint configuration ends, and every member's view says so.
		c.waitDirs(want, fmt.Sprintf("views [%v] on %v", want, want), func() bool {
			for _, n := range want {
				if v, ok := c.svc(n).GetViews("e1"); !ok || len(v) != 1 || !slices.Equal(v[0], want) {
					return false
				}
			}
			return true
		})
		ctx2, cancel2 := ctxT(5 * time.Second)
		defer cancel2()
		if got, err := c.svc(leader).Client().KGet(ctx2, "e1", "k"); err != nil || string(got.Value) != "v" {
			t.Fatalf("kget after replace (leader %s): %+v, %v", next, got, err)
		}
		if _, err := c.svc(leader).PeerStatus(ctx2, leader, "e1"); !errors.Is(err, ensemble.ErrUnavailable) {
			t.Fatalf("removed peer still runs: %v", err)
		}
	})
}
