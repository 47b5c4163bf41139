package ensemble_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// TestFollowerLag: on the leader, PeerStatus gives each follower's match
// index and lag. A follower cut off falls behind by the writes it missed
// while the other keeps up; once healed it catches up to lag 0.
func TestFollowerLag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 5, 3, ensemble.Config{})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		rest := others(c.names, leader)
		behind, current := rest[0], rest[1]
		c.net.Partition([]string{behind}, []string{leader, current})
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		const writes = 5
		for i := range writes {
			if _, err := c.svc(leader).Client().KOver(ctx, "e1", "k", []byte{byte(i)}); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		time.Sleep(time.Second) // the last acknowledgements arrive
		status := func(node string) ensemble.PeerStatus {
			t.Helper()
			ctx, cancel := ctxT(5 * time.Second)
			defer cancel()
			st, err := c.svc(leader).PeerStatus(ctx, node, "e1")
			if err != nil {
				t.Fatalf("status of %s: %v", node, err)
			}
			return st
		}
		progress := func(st ensemble.PeerStatus) map[string]ensemble.FollowerProgress {
			t.Helper()
			if st.State != "leader" || len(st.Followers) != 2 {
				t.Fatalf("leader's status: %+v", st)
			}
			if st.Followers[0].Node > st.Followers[1].Node {
				t.Errorf("followers not sorted by node: %+v", st.Followers)
			}
			out := map[string]ensemble.FollowerProgress{}
			for _, f := range st.Followers {
				out[f.Node] = f
			}
			return out
		}
		st := status(leader)
		p := progress(st)
		t.Logf("cut off: %+v", st.Followers)
		if p[current].Lag != 0 || p[current].Match != st.Applied {
			t.Errorf("the follower that keeps up: %+v, leader applied %d", p[current], st.Applied)
		}
		if p[behind].Lag < writes || p[behind].Match+p[behind].Lag != p[current].Match {
			t.Errorf("the cut-off follower: %+v, want at least %d behind %+v", p[behind], writes, p[current])
		}
		if f := status(current); f.State != "follower" || len(f.Followers) != 0 {
			t.Errorf("a follower reports followers: %+v", f)
		}

		c.net.Heal()
		time.Sleep(5 * time.Second)
		st = status(leader)
		p = progress(st)
		t.Logf("healed: %+v", st.Followers)
		for _, n := range rest {
			if p[n].Lag != 0 || p[n].Match != st.Applied {
				t.Errorf("%s after healing: %+v, leader applied %d", n, p[n], st.Applied)
			}
		}
	})
}
