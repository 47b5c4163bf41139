package rafted_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/rafted"
)

// A leader's status shows what is committed and applied, and each follower's
// progress: a follower that stops hearing the leader falls behind by what
// was committed without it.
func TestStatusShowsProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 3)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		l := leaderOf(c, ms)
		for range 5 {
			if _, err := rafted.Command(ctx, c.node(l), ms[l].Server(), add("x", 1), ""); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second) // heartbeats carry the commit index to followers
		st, err := rafted.GetStatus(ctx, c.node(l), ms[l].Server())
		if err != nil {
			t.Fatal(err)
		}
		if st.CommitIndex == 0 || st.AppliedIndex != st.CommitIndex || len(st.Followers) != 2 {
			t.Fatalf("leader status: commit %d, applied %d, followers %+v", st.CommitIndex, st.AppliedIndex, st.Followers)
		}
		for _, f := range st.Followers {
			if f.Match != st.CommitIndex || f.Lag != 0 || f.PID == ms[l].PID {
				t.Fatalf("follower %+v, commit %d", f, st.CommitIndex)
			}
		}
		f := (l + 1) % 3
		fs, err := rafted.GetStatus(ctx, c.node(f), ms[f].Server())
		if err != nil || fs.CommitIndex != st.CommitIndex || len(fs.Followers) != 0 {
			t.Fatalf("follower's own status: %+v, %v", fs, err)
		}

		// Cut the follower off: what commits without it is its lag.
		var others []string
		for i, name := range c.names {
			if i != f {
				others = append(others, name)
			}
		}
		c.net.Partition([]string{c.names[f]}, others)
		for range 3 {
			if _, err := rafted.Command(ctx, c.node(l), ms[l].Server(), add("x", 1), ""); err != nil {
				t.Fatal(err)
			}
		}
		st, err = rafted.GetStatus(ctx, c.node(l), ms[l].Server())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range st.Followers {
			if want := p.PID == ms[f].PID; (p.Lag >= 3) != want {
				t.Fatalf("after the cut: follower %+v (cut off: %v), commit %d", p, want, st.CommitIndex)
			}
		}
	})
}
