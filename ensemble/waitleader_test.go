package ensemble_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// WaitLeader returns once the node's directory names a leader of the
// ensemble, on a node that hosts no peer of it too; it is told by the
// directory's update, not by asking again and again.
func TestWaitLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 7, 4, ensemble.Config{})
		c.form()
		ctx, cancel := ctxT(10 * time.Second)
		defer cancel()
		type result struct {
			leader string
			err    error
		}
		got := make(chan result, 1)
		go func() {
			l, err := c.svc("n4").WaitLeader(ctx, "e1")
			got <- result{l, err}
		}()
		synctest.Wait()
		select {
		case r := <-got:
			t.Fatalf("WaitLeader returned %+v before the ensemble existed", r)
		default:
		}
		if err := c.svc("n1").CreateEnsemble(ctx, "e1", []string{"n1", "n2", "n3"}, ""); err != nil {
			t.Fatal(err)
		}
		r := <-got
		if r.err != nil || !slices.Contains([]string{"n1", "n2", "n3"}, r.leader) {
			t.Fatalf("WaitLeader: %q, %v", r.leader, r.err)
		}
		if l, ok := c.svc("n4").GetLeader("e1"); !ok || l != r.leader {
			t.Fatalf("the directory says %q, %v; WaitLeader said %q", l, ok, r.leader)
		}
		// A leader other than the one named: after it is gone.
		if l, err := c.svc("n4").WaitLeader(ctx, "e1", "nobody"); err != nil || l != r.leader {
			t.Fatalf("WaitLeader except another: %q, %v", l, err)
		}
		short, cancelShort := context.WithTimeout(ctx, time.Second)
		defer cancelShort()
		if _, err := c.svc("n4").WaitLeader(short, "e1", r.leader); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitLeader for another leader of a stable ensemble: %v", err)
		}
	})
}
