package cets_test

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/remote/transport"
)

// TestJoinChecks builds clusters no join would make and checks that a join
// involving them is refused with CETS's reason, changing nothing.
func TestJoinChecks(t *testing.T) {
	cases := []struct {
		name string
		// build makes the servers of a, b, c see what they see; the test
		// then joins a with c.
		build func(t *testing.T, n *tnode, a, b, c actor.PID)
		want  error
	}{
		{"overlap", func(t *testing.T, n *tnode, a, b, c actor.PID) {
			force(t, n, a, []actor.PID{a, b}, 1)
			force(t, n, b, []actor.PID{a, b}, 1)
			force(t, n, c, []actor.PID{b, c}, 2) // c claims b too
		}, cets.ErrOverlap},
		{"not fully connected", func(t *testing.T, n *tnode, a, b, c actor.PID) {
			force(t, n, a, []actor.PID{a, b}, 1) // b does not know a
		}, cets.ErrNotFullyConnected},
		{"not the same join ref", func(t *testing.T, n *tnode, a, b, c actor.PID) {
			force(t, n, a, []actor.PID{a, b}, 1)
			force(t, n, b, []actor.PID{a, b}, 2)
		}, cets.ErrNotSameJoinRef},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ns := cluster(t, transport.NewNetwork(int64(i)), "a", "b", "c")
				var pids []actor.PID
				var tabs []*cets.Table[string, Rec]
				for _, n := range ns {
					tab := startTable(t, n, "tab", cets.Options[string, Rec]{})
					pid, _ := tab.PID()
					pids = append(pids, pid)
					tabs = append(tabs, tab)
				}
				tc.build(t, ns[0], pids[0], pids[1], pids[2])
				before, _ := tabs[0].Info(t.Context())
				err := tabs[0].Join(t.Context(), tabs[2].Server(), cets.JoinOptions{})
				if !errors.Is(err, tc.want) {
					t.Fatalf("join: %v, want %v", err, tc.want)
				}
				after, _ := tabs[0].Info(t.Context())
				if after.JoinRef != before.JoinRef || len(after.PauseMonitors) != 0 {
					t.Fatalf("refused join changed a: %+v", after)
				}
			})
		})
	}
}

func force(t *testing.T, n *tnode, server actor.PID, peers []actor.PID, ref uint64) {
	t.Helper()
	if err := cets.ForcePeers(t.Context(), n, server, peers, ref); err != nil {
		t.Fatal(err)
	}
}
