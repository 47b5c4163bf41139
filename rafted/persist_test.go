package rafted_test

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/rafted"
	"github.com/gotp-dev/gotp/supervisor"
)

func TestLeaseReads(t *testing.T) {
	cases := []struct {
		name      string
		cfg       rafted.Config
		leaseRead bool // a read just after the partition is answered
	}{
		{"lease", rafted.Config{ElectionTimeoutClockDriftMargin: 200 * time.Millisecond}, true},
		{"no lease", rafted.Config{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, 10, 3)
				ms := c.group(3, tc.cfg)
				ctx, cancel := ctxT(10 * time.Second)
				defer cancel()
				n, s := c.node(0), ms[0].Server()
				if _, err := rafted.Command(ctx, n, s, put("a", 3), ""); err != nil {
					t.Fatal(err)
				}
				time.Sleep(500 * time.Millisecond) // lease renewed by heartbeats
				c.net.Isolate("n1")
				qctx, qcancel := ctxT(100 * time.Millisecond)
				q, err := rafted.Query(qctx, n, s, "a")
				qcancel()
				if tc.leaseRead && (err != nil || q != int64(3)) {
					t.Fatalf("read under lease: %v %v", q, err)
				}
				if !tc.leaseRead && !errors.Is(err, rafted.ErrTimeout) {
					t.Fatalf("read without lease while cut off: %v %v", q, err)
				}
				// Lease is 1000-200-200 = 600 ms from the last acknowledged
				// heartbeat: by now it has run out.
				time.Sleep(700 * time.Millisecond)
				qctx, qcancel = ctxT(100 * time.Millisecond)
				q, err = rafted.Query(qctx, n, s, "a")
				qcancel()
				if err == nil {
					t.Fatalf("cut-off leader answered after its lease: %v", q)
				}
				if !errors.Is(err, rafted.ErrTimeout) && !errors.Is(err, rafted.ErrNotLeader) {
					t.Fatalf("unexpected error %v", err)
				}
			})
		})
	}
}

func TestRestartFromDir(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 11, 3)
		dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		cfg := rafted.Config{MaxRetainedCommittedLogs: 10}
		first, err := rafted.Start(ctx, c.node(0), rafted.Options{NewData: newKV, Create: &cfg, Name: "rv", Dir: dirs[0]})
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
		for i := range 35 {
			if _, err := rafted.Command(ctx, c.node(0), first.Server(), add("n", 1), fmt.Sprint("id", i)); err != nil {
				t.Fatal(err)
			}
		}
		// Lose every process.
		for i, m := range ms {
			_ = c.node(i).Exit(m.PID, actor.Kill)
		}
		time.Sleep(100 * time.Millisecond)
		for i := range ms {
			m, err := rafted.Start(ctx, c.node(i), rafted.Options{NewData: newKV, Name: "rv", Dir: dirs[i]})
			if err != nil {
				t.Fatalf("restart %d: %v", i, err)
			}
			ms[i] = m
		}
		l := waitLeader(t, c, ms)
		n, s := c.node(l), ms[l].Server()
		if q, err := rafted.Query(ctx, n, s, "n"); q != int64(35) || err != nil {
			t.Fatalf("after restart n = %v, %v", q, err)
		}
		// The result cache came back too.
		if r, err := rafted.Command(ctx, n, s, add("n", 1), "id34"); r != int64(35) || err != nil {
			t.Fatalf("dedup after restart: %v %v", r, err)
		}
		if r, err := rafted.Command(ctx, n, s, add("n", 1), "new"); r != int64(36) || err != nil {
			t.Fatalf("command after restart: %v %v", r, err)
		}
	})
}

func TestCatchUpBySnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 12, 3)
		ms := c.group(2, rafted.Config{MaxRetainedCommittedLogs: 5})
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		for range 40 {
			if _, err := rafted.Command(ctx, c.node(0), ms[0].Server(), add("n", 1), ""); err != nil {
				t.Fatal(err)
			}
		}
		m, err := rafted.Start(ctx, c.node(2), rafted.Options{NewData: newKV, Join: []rafted.Server{ms[1].Server()}, Name: "rv"})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := rafted.ReplaceLeader(ctx, c.node(0), ms[0].Server(), m.PID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if q, err := rafted.Query(ctx, c.node(2), m.Server(), "n"); q != int64(40) || err != nil {
			t.Fatalf("new member's value %v, %v", q, err)
		}
	})
}

func TestSupervised(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 13, 1)
		n := c.node(0)
		dir := t.TempDir()
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		_, err := supervisor.Start(n, supervisor.Spec{Children: []supervisor.ChildSpec{
			rafted.ChildSpec("rv", rafted.Options{NewData: newKV, Create: &rafted.Config{}, Name: "rv", Dir: dir}),
		}})
		if err != nil {
			t.Fatal(err)
		}
		s := rafted.ByName("n1", "rv")
		if _, err := rafted.Command(ctx, n, s, put("a", 1), ""); err != nil {
			t.Fatal(err)
		}
		pid, _ := n.WhereIs("rv")
		_ = n.Exit(pid, actor.Kill)
		time.Sleep(3 * time.Second) // restarted from its Dir; elects itself
		if q, err := rafted.Query(ctx, n, s, "a"); q != int64(1) || err != nil {
			t.Fatalf("after restart: %v %v", q, err)
		}
	})
}
