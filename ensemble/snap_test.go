package ensemble_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// A peer added after the log was compacted catches up from a snapshot:
// one taken after its addition, since a snapshot from before it, whose
// configuration does not hold it, is one it cannot restore (raft would
// send it that one again and again).
func TestPeerAddedAfterCompactionCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 42, 4, ensemble.Config{SnapshotEvery: 4})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		cl := c.svc(leader).Client()
		for i := range 10 {
			if _, err := cl.KOver(ctx, "e1", fmt.Sprint("k", i), []byte(fmt.Sprint("v", i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.svc("n1").UpdateMembers(ctx, "e1", []string{"n4"}, nil); err != nil {
			t.Fatal(err)
		}
		// Nothing is written after: no later snapshot comes to the rescue.
		lst, err := c.svc(leader).PeerStatus(ctx, leader, "e1")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second) // heartbeats bring n4 up to date
		st, err := c.svc("n4").PeerStatus(ctx, "n4", "e1")
		if err != nil || st.Applied < lst.Commit {
			t.Fatalf("n4 %+v, %v; the leader's commit is %d", st, err, lst.Commit)
		}
	})
}
