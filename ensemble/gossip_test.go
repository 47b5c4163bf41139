package ensemble_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// A node cut off while an ensemble's leader changes misses the leader's
// notice; once it is reachable again it learns the new leader within a few
// gossip rounds (every 20 ticks a manager sends one member the views it
// leads), with no further change to bring a notice.
func TestMissedLeaderNoticeIsGossiped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 71, 4, ensemble.Config{})
		c.form()
		old := c.create("e1", "n1", "n2", "n3")
		if got := c.waitLeader("e1", c.names); got != old { // n4 hears the leader's notice
			t.Fatalf("n4 knows leader %q, not %s", got, old)
		}
		c.net.Partition([]string{"n4"}, []string{"n1", "n2", "n3"})
		c.stopNode(old)
		rest := others([]string{"n1", "n2", "n3"}, old)
		next := c.waitLeader("e1", rest, old)
		if got, _ := c.svc("n4").GetLeader("e1"); got != old {
			t.Fatalf("n4 heard of the new leader %q while cut off", got)
		}
		c.net.Heal()
		time.Sleep(3 * 20 * ensemble.DefaultTick) // three gossip rounds
		if got, _ := c.svc("n4").GetLeader("e1"); got != next {
			t.Fatalf("n4 still knows leader %q, not %s", got, next)
		}
	})
}
