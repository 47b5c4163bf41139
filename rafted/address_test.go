package rafted_test

import (
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
)

// TestRestartedMemberIsKnownByItsNewPID: a follower restarted from its Dir
// has a new PID; every member's status names it by that PID.
func TestRestartedMemberIsKnownByItsNewPID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The Dirs first: they are removed after the nodes stop.
		dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
		c := newCluster(t, 23, 3)
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		first, err := rafted.Start(ctx, c.node(0), rafted.Options{NewData: newKV, Create: &rafted.Config{}, Name: "rv", Dir: dirs[0]})
		if err != nil {
			t.Fatal(err)
		}
		ms := []*rafted.Member{first}
		for i := 1; i < 3; i++ {
			m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newKV, Join: []rafted.Server{first.Server()}, Name: "rv", Dir: dirs[i]})
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		_ = c.node(2).Exit(ms[2].PID, actor.Kill)
		time.Sleep(100 * time.Millisecond)
		m, err := rafted.Start(ctx, c.node(2), rafted.Options{NewData: newKV, Name: "rv", Dir: dirs[2]})
		if err != nil {
			t.Fatal(err)
		}
		ms[2] = m
		time.Sleep(2 * time.Second) // heartbeats reach it; its answers reach the leader
		for i, mm := range ms {
			st, err := rafted.GetStatus(ctx, c.node(i), mm.Server())
			if err != nil || !slices.Contains(st.Members, m.PID) {
				t.Fatalf("member %d: members %v, want the restarted %v (%v)", i, st.Members, m.PID, err)
			}
		}
		// A membership operation can name a member by its registered name,
		// which does not change when it restarts.
		if err := rafted.RemoveFollower(ctx, c.node(0), first.Server(), rafted.ByName("n3", "rv")); err != nil {
			t.Fatalf("remove by name: %v", err)
		}
		if st, err := rafted.GetStatus(ctx, c.node(0), first.Server()); err != nil || len(st.Members) != 2 {
			t.Fatalf("after remove by name: %+v %v", st, err)
		}
	})
}

// TestLeaderTransferRedirectsAndCancels: while a transfer is pending, the
// leader refuses commands naming the member it hands over to (not itself),
// and ReplaceLeader with no member cancels the transfer.
func TestLeaderTransferRedirectsAndCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 24, 3)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		n, s := c.node(0), ms[0].Server()
		// The target falls behind: it cannot take over until it catches up.
		c.net.SetDrop("n1", "n2", 1)
		if _, err := rafted.Command(ctx, n, s, put("a", 1), ""); err != nil {
			t.Fatal(err)
		}
		if err := rafted.ReplaceLeader(ctx, n, s, ms[1].PID); err != nil {
			t.Fatalf("replace: %v", err)
		}
		_, err := rafted.Command(ctx, n, s, put("a", 2), "")
		var nl rafted.NotLeaderError
		if !errors.As(err, &nl) || nl.Leader != ms[1].PID {
			t.Fatalf("command during the transfer: %v, want a NotLeaderError naming %v", err, ms[1].PID)
		}
		var none actor.PID
		if err := rafted.ReplaceLeader(ctx, n, s, none); err != nil {
			t.Fatalf("cancel the transfer: %v", err)
		}
		if _, err := rafted.Command(ctx, n, s, put("a", 3), ""); err != nil {
			t.Fatalf("command after cancelling the transfer: %v", err)
		}
		c.net.SetDrop("n1", "n2", 0)
	})
}
