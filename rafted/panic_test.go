package rafted_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
)

// panicKV is kv whose command []any{"boom", key, v} panics after setting
// key: a Data with a bug.
type panicKV struct{ kv }

func newPanicKV() rafted.Data { return &panicKV{kv{m: map[string]int64{}}} }

func (d *panicKV) Command(arg any) any {
	if a, ok := arg.([]any); ok && len(a) == 3 && a[0] == "boom" {
		d.m[a[1].(string)] = a[2].(int64)
		panic("boom")
	}
	return d.kv.Command(arg)
}

func TestPanickingCommandIsItsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The Dirs first: they are removed after the nodes stop.
		dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
		c := newCluster(t, 21, 3)
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		first, err := rafted.Start(ctx, c.node(0), rafted.Options{NewData: newPanicKV, Create: &rafted.Config{}, Name: "rv", Dir: dirs[0]})
		if err != nil {
			t.Fatal(err)
		}
		ms := []*rafted.Member{first}
		for i := 1; i < 3; i++ {
			m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newPanicKV, Join: []rafted.Server{first.Server()}, Name: "rv", Dir: dirs[i]})
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		n, s := c.node(0), first.Server()
		_, err = rafted.Command(ctx, n, s, []any{"boom", "a", int64(7)}, "boom-1")
		if !errors.Is(err, rafted.ErrCommandPanicked) {
			t.Fatalf("panicking command: %v", err)
		}
		// Retrying with the same id returns the same error without applying
		// it again.
		if _, err2 := rafted.Command(ctx, n, s, []any{"boom", "a", int64(8)}, "boom-1"); !errors.Is(err2, rafted.ErrCommandPanicked) || err2.Error() != err.Error() {
			t.Fatalf("retried panicking command: %v", err2)
		}
		if r, err := rafted.Command(ctx, n, s, add("a", 1), ""); r != int64(8) || err != nil {
			t.Fatalf("command after the panic: %v %v", r, err)
		}
		time.Sleep(time.Second) // every follower applies both
		for i, m := range ms {
			if st, err := rafted.GetStatus(ctx, c.node(i), m.Server()); err != nil || len(st.Members) != 3 {
				t.Fatalf("member %d after the panic: %+v %v", i, st, err)
			}
		}
		// Every member replays the panicking entry from its Dir.
		for i, m := range ms {
			_ = c.node(i).Exit(m.PID, actor.Kill)
		}
		time.Sleep(100 * time.Millisecond)
		for i := range ms {
			m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newPanicKV, Name: "rv", Dir: dirs[i]})
			if err != nil {
				t.Fatalf("restart %d: %v", i, err)
			}
			ms[i] = m
		}
		l := waitLeader(t, c, ms)
		if q, err := rafted.Query(ctx, c.node(l), ms[l].Server(), "a"); q != int64(8) || err != nil {
			t.Fatalf("after restart a = %v, %v", q, err)
		}
	})
}
