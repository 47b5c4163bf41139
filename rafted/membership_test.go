package rafted_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
)

func TestDedup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, 3)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		n := c.node(0)
		for i := range 2 {
			r, err := rafted.Command(ctx, n, ms[0].Server(), add("x", 5), "id-1")
			if err != nil || r != int64(5) {
				t.Fatalf("try %d: %v, %v", i, r, err)
			}
		}
		// The cache is replicated: after a failover the new leader answers
		// from it without applying again.
		if err := n.Exit(ms[0].PID, actor.Kill); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // the exit takes effect
		if _, err := rafted.Command(ctx, n, ms[0].Server(), add("x", 5), "id-1"); !errors.Is(err, actor.ErrNoProc) {
			t.Fatalf("command to a dead member: %v", err)
		}
		l := waitLeader(t, c, ms, 0)
		r, err := rafted.Command(ctx, c.node(l), ms[l].Server(), add("x", 5), "id-1")
		if err != nil || r != int64(5) {
			t.Fatalf("after failover: %v, %v", r, err)
		}
		if q, err := rafted.Query(ctx, c.node(l), ms[l].Server(), "x"); q != int64(5) || err != nil {
			t.Fatalf("x = %v, %v", q, err)
		}
		r, err = rafted.Command(ctx, c.node(l), ms[l].Server(), add("x", 5), "id-2")
		if err != nil || r != int64(10) {
			t.Fatalf("new id: %v, %v", r, err)
		}
	})
}

func TestDedupCacheSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 4, 1)
		ms := c.group(1, rafted.Config{MaxRetainedCommandResults: 2})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		n, s := c.node(0), ms[0].Server()
		for _, id := range []string{"a", "b", "c"} {
			if _, err := rafted.Command(ctx, n, s, add("x", 1), id); err != nil {
				t.Fatal(err)
			}
		}
		// "a" was evicted: it applies again; "c" is still cached.
		if r, _ := rafted.Command(ctx, n, s, add("x", 1), "c"); r != int64(3) {
			t.Fatalf("c: %v", r)
		}
		if r, _ := rafted.Command(ctx, n, s, add("x", 1), "a"); r != int64(4) {
			t.Fatalf("a: %v", r)
		}
	})
}

func TestMembershipErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 5, 4)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		n := c.node(0)
		leader, f1, f2 := ms[0], ms[1], ms[2]
		stranger, _ := c.node(3).Spawn(actor.Func(func(*actor.Process, any) error { return nil }))
		cases := []struct {
			name string
			run  func() error
			want error
		}{
			{"remove via follower", func() error { return rafted.RemoveFollower(ctx, n, f1.Server(), f2.PID) }, rafted.ErrNotLeader},
			{"remove non-member", func() error { return rafted.RemoveFollower(ctx, n, leader.Server(), stranger) }, rafted.ErrNotMember},
			{"remove leader", func() error { return rafted.RemoveFollower(ctx, n, leader.Server(), leader.PID) }, rafted.ErrCannotRemoveLeader},
			{"replace via follower", func() error { return rafted.ReplaceLeader(ctx, n, f1.Server(), f2.PID) }, rafted.ErrNotLeader},
			{"replace with non-member", func() error { return rafted.ReplaceLeader(ctx, n, leader.Server(), stranger) }, rafted.ErrNotMember},
			{"force remove with leader", func() error { return rafted.ForceRemoveMember(ctx, n, f1.Server(), f2.PID) }, rafted.ErrLeaderExists},
			{"change config via follower", func() error { return rafted.ChangeConfig(ctx, n, f1.Server(), rafted.Config{}) }, rafted.ErrNotLeader},
		}
		for _, tc := range cases {
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}

		// Kill f2: removing f1 would leave leader + dead f2, one responsive
		// out of two.
		if err := c.node(2).Exit(f2.PID, actor.Kill); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if err := rafted.RemoveFollower(ctx, n, leader.Server(), f1.PID); !errors.Is(err, rafted.ErrWillBreakQuorum) {
			t.Errorf("remove breaking quorum: %v", err)
		}
		if err := rafted.ReplaceLeader(ctx, n, leader.Server(), f2.PID); !errors.Is(err, rafted.ErrNewLeaderUnresponsive) {
			t.Errorf("replace with dead member: %v", err)
		}
		st, _ := rafted.GetStatus(ctx, n, leader.Server())
		if len(st.UnresponsiveFollowers) != 1 || st.UnresponsiveFollowers[0] != f2.PID {
			t.Errorf("unresponsive %v", st.UnresponsiveFollowers)
		}
		// Removing the dead one is fine, and then the group has two.
		if err := rafted.RemoveFollower(ctx, n, leader.Server(), f2.PID); err != nil {
			t.Fatalf("remove dead follower: %v", err)
		}
		st, _ = rafted.GetStatus(ctx, n, leader.Server())
		if len(st.Members) != 2 {
			t.Fatalf("members %v", st.Members)
		}

		// A membership change in flight: the second one is refused. Delay
		// traffic so the first cannot commit at once.
		c.net.SetDelay("n1", "n2", 300*time.Millisecond, 0)
		done := make(chan error, 1)
		m4node := c.node(3)
		go func() {
			_, err := rafted.Start(ctx, m4node, rafted.Options{NewData: newKV, Join: []rafted.Server{leader.Server()}, Name: "rv"})
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		if err := rafted.RemoveFollower(ctx, n, leader.Server(), f1.PID); !errors.Is(err, rafted.ErrUncommittedMembershipChange) {
			t.Errorf("remove during join: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("join: %v", err)
		}
		c.net.SetDelay("n1", "n2", 0, 0)

		// A leadership transfer in progress: removing is refused. Make the
		// transfer slow by delaying what the target hears.
		c.net.SetDelay("n1", "n2", 300*time.Millisecond, 0)
		if err := rafted.ReplaceLeader(ctx, n, leader.Server(), f1.PID); err != nil {
			t.Fatalf("replace: %v", err)
		}
		st, _ = rafted.GetStatus(ctx, n, leader.Server())
		var other = st.Members[len(st.Members)-1]
		if err := rafted.RemoveFollower(ctx, n, leader.Server(), other); !errors.Is(err, rafted.ErrPendingLeaderChange) {
			t.Errorf("remove during transfer: %v", err)
		}
	})
}

func TestReplaceLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 6, 3)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		if _, err := rafted.Command(ctx, c.node(0), ms[0].Server(), put("a", 1), ""); err != nil {
			t.Fatal(err)
		}
		if err := rafted.ReplaceLeader(ctx, c.node(0), ms[0].Server(), ms[2].PID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		st, err := rafted.GetStatus(ctx, c.node(2), ms[2].Server())
		if err != nil || st.StateName != "leader" {
			t.Fatalf("new leader status %+v, %v", st, err)
		}
		st0, _ := rafted.GetStatus(ctx, c.node(0), ms[0].Server())
		if st0.StateName != "follower" || st0.Leader != ms[2].PID {
			t.Fatalf("old leader status %+v", st0)
		}
		if q, err := rafted.Query(ctx, c.node(2), ms[2].Server(), "a"); q != int64(1) || err != nil {
			t.Fatalf("query: %v %v", q, err)
		}
	})
}

func TestIsolatedLeaderStepsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 7, 3)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(20 * time.Second)
		defer cancel()
		c.net.Isolate("n1")
		short, cancelShort := ctxT(300 * time.Millisecond)
		_, err := rafted.Command(short, c.node(0), ms[0].Server(), put("a", 1), "")
		cancelShort()
		if !errors.Is(err, rafted.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("command on a cut-off leader: %v", err)
		}
		time.Sleep(3 * time.Second)
		st, _ := rafted.GetStatus(ctx, c.node(0), ms[0].Server())
		if st.StateName == "leader" {
			t.Fatalf("isolated leader still leads: %+v", st)
		}
		l := waitLeader(t, c, ms, 0)
		if _, err := rafted.Command(ctx, c.node(l), ms[l].Server(), put("a", 2), ""); err != nil {
			t.Fatal(err)
		}
		c.net.Heal()
		time.Sleep(3 * time.Second)
		st, _ = rafted.GetStatus(ctx, c.node(0), ms[0].Server())
		if st.StateName != "follower" || st.Leader != ms[l].PID {
			t.Fatalf("old leader after heal: %+v", st)
		}
	})
}

func TestMinorityFailures(t *testing.T) {
	for _, size := range []int{3, 5, 7} {
		t.Run("", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, int64(size), size)
				ms := c.group(size, rafted.Config{})
				ctx, cancel := ctxT(30 * time.Second)
				defer cancel()
				// Kill the leader and as many followers as a majority allows.
				dead := []int{0}
				if err := c.node(0).Exit(ms[0].PID, actor.Kill); err != nil {
					t.Fatal(err)
				}
				for i := 1; i < (size-1)/2; i++ {
					dead = append(dead, i)
					_ = c.node(i).Exit(ms[i].PID, actor.Kill)
				}
				l := waitLeader(t, c, ms, dead...)
				for i := range 5 {
					r, err := rafted.Command(ctx, c.node(l), ms[l].Server(), add("n", 1), "")
					if err != nil || r != int64(i+1) {
						t.Fatalf("size %d command %d: %v %v", size, i, r, err)
					}
				}
			})
		})
	}
}

func TestForceRemoveAfterMajorityLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 8, 3)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		if _, err := rafted.Command(ctx, c.node(0), ms[0].Server(), put("a", 9), ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the last member to join catches up
		_ = c.node(0).Exit(ms[0].PID, actor.Kill)
		_ = c.node(1).Exit(ms[1].PID, actor.Kill)
		time.Sleep(5 * time.Second)
		s := ms[2].Server()
		n := c.node(2)
		if st, _ := rafted.GetStatus(ctx, n, s); st.StateName == "leader" || !st.Leader.IsZero() {
			t.Fatalf("survivor %+v", st)
		}
		for _, dead := range []actor.PID{ms[0].PID, ms[1].PID} {
			if err := rafted.ForceRemoveMember(ctx, n, s, dead); err != nil {
				t.Fatalf("force remove: %v", err)
			}
		}
		if err := rafted.ForceRemoveMember(ctx, n, s, ms[0].PID); !errors.Is(err, rafted.ErrNotMember) {
			t.Fatalf("force remove twice: %v", err)
		}
		l := waitLeader(t, c, ms, 0, 1)
		if l != 2 {
			t.Fatalf("leader %d", l)
		}
		if q, err := rafted.Query(ctx, n, s, "a"); q != int64(9) || err != nil {
			t.Fatalf("query %v %v", q, err)
		}
		if _, err := rafted.Command(ctx, n, s, put("a", 10), ""); err != nil {
			t.Fatal(err)
		}
	})
}

func TestChangeConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 9, 3)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		want := rafted.Config{HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: 500 * time.Millisecond, MaxRetainedCommandResults: 5}
		if err := rafted.ChangeConfig(ctx, c.node(0), ms[0].Server(), want); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		for i, m := range ms {
			st, err := rafted.GetStatus(ctx, c.node(i), m.Server())
			if err != nil {
				t.Fatal(err)
			}
			if st.Config.HeartbeatInterval != want.HeartbeatInterval || st.Config.MaxRetainedCommandResults != 5 ||
				st.Config.MaxRetainedCommittedLogs != 100 {
				t.Fatalf("member %d config %+v", i, st.Config)
			}
		}
		bad := rafted.Config{HeartbeatInterval: time.Second, ElectionTimeout: time.Second}
		if err := rafted.ChangeConfig(ctx, c.node(0), ms[0].Server(), bad); err == nil {
			t.Fatal("invalid config accepted")
		}
	})
}
