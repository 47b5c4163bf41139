package rafted_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/rafted"
)

// unrestorableKV is kv that cannot restore a snapshot: a member that must
// catch up by snapshot fails to join.
type unrestorableKV struct{ kv }

func newUnrestorableKV() rafted.Data { return &unrestorableKV{kv{m: map[string]int64{}}} }

func (*unrestorableKV) Restore([]byte) error { return errors.New("cannot restore") }

// TestFailedJoinIsUndone: a member that fails to join after its addition
// was committed is taken out of the group again, so the group does not
// count a dead member in its majority.
func TestFailedJoinIsUndone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 22, 2)
		ms := c.group(1, rafted.Config{MaxRetainedCommittedLogs: 2})
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		n, s := c.node(0), ms[0].Server()
		for range 10 { // the log is compacted: a new member needs a snapshot
			if _, err := rafted.Command(ctx, n, s, add("a", 1), ""); err != nil {
				t.Fatal(err)
			}
		}
		jctx, jcancel := ctxT(5 * time.Second)
		_, err := rafted.Start(jctx, c.node(1), rafted.Options{NewData: newUnrestorableKV, Join: []rafted.Server{s}, Name: "rv"})
		jcancel()
		if !errors.Is(err, rafted.ErrJoin) {
			t.Fatalf("join that cannot restore: %v", err)
		}
		time.Sleep(time.Second)
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		defer ccancel()
		if r, err := rafted.Command(cctx, n, s, add("a", 1), ""); r != int64(11) || err != nil {
			t.Fatalf("command after the failed join: %v %v", r, err)
		}
		if st, err := rafted.GetStatus(ctx, n, s); err != nil || len(st.Members) != 1 {
			t.Fatalf("members after the failed join: %+v %v", st, err)
		}
	})
}
