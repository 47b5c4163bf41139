package ensemble_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// With frames of 64 KiB, a peer added after the log was compacted catches
// up from a snapshot of several frames (sent in pieces), a batch holding
// more than a frame of messages goes out in several, and a write whose
// entry could not cross in one frame is refused instead of stalling the
// ensemble.
func TestLargerThanAFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const frame = 64 << 10
		c := newCluster(t, 41, 4, ensemble.Config{MaxFrameSize: frame, SnapshotEvery: 4})
		c.form()
		leader := c.create("e1", "n1", "n2", "n3")
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		cl := c.svc(leader).Client()
		value := bytes.Repeat([]byte("v"), 20<<10)
		for i := range 16 { // 320 KiB: five frames' worth
			if _, err := cl.KOver(ctx, "e1", fmt.Sprint("k", i), value); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if _, err := cl.KOver(ctx, "e1", "huge", bytes.Repeat([]byte("h"), frame)); !errors.Is(err, ensemble.ErrTooLarge) {
			t.Fatalf("a write larger than a frame: %v", err)
		}
		if err := c.svc("n1").UpdateMembers(ctx, "e1", []string{"n4"}, nil); err != nil {
			t.Fatal(err)
		}
		last, err := cl.KOver(ctx, "e1", "last", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second) // heartbeats bring n4 up to date
		st, err := c.svc("n4").PeerStatus(ctx, "n4", "e1")
		if err != nil {
			t.Fatal(err)
		}
		if st.Applied < last.Seq {
			t.Fatalf("n4 applied %d, the last write is at %d", st.Applied, last.Seq)
		}
		// n4 serves what it caught up on once it leads.
		c.stopNode(leader)
		rest := []string{"n4"}
		for _, n := range []string{"n1", "n2", "n3"} {
			if n != leader {
				rest = append(rest, n)
			}
		}
		now := c.waitLeader("e1", rest, leader)
		got, err := c.svc("n4").Client().KGet(ctx, "e1", "k7")
		if err != nil || !bytes.Equal(got.Value, value) {
			t.Fatalf("k7 after the leader %s was lost (new leader %s): %d bytes, %v", leader, now, len(got.Value), err)
		}
	})
}
