package rafted_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/rafted"
)

func TestBootstrapCommandQuery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 1)
		ms := c.group(1, rafted.Config{})
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		st, err := rafted.GetStatus(ctx, c.node(0), ms[0].Server())
		if err != nil || st.StateName != "leader" || st.Leader != ms[0].PID || len(st.Members) != 1 {
			t.Fatalf("status %+v, %v", st, err)
		}
		if st.Config.HeartbeatInterval != 200*time.Millisecond || st.Config.MaxRetainedCommandResults != 100 {
			t.Fatalf("config %+v", st.Config)
		}
		r, err := rafted.Command(ctx, c.node(0), ms[0].Server(), add("x", 2), "")
		if err != nil || r != int64(2) {
			t.Fatalf("command: %v, %v", r, err)
		}
		q, err := rafted.Query(ctx, c.node(0), ms[0].Server(), "x")
		if err != nil || q != int64(2) {
			t.Fatalf("query: %v, %v", q, err)
		}
		_, err = rafted.Command(ctx, c.node(0), rafted.ByName("n1", "rv"), add("x", 1), "")
		if err != nil {
			t.Fatal(err)
		}
		if q, _ := rafted.Query(ctx, c.node(0), rafted.ByName("n1", "rv"), "x"); q != int64(3) {
			t.Fatalf("query by name: %v", q)
		}
		_ = errors.New
	})
}

func TestJoin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 2, 3)
		ms := c.group(3, rafted.Config{})
		ctx, cancel := ctxT(5 * time.Second)
		defer cancel()
		if _, err := rafted.Command(ctx, c.node(0), ms[0].Server(), put("k", 7), ""); err != nil {
			t.Fatal(err)
		}
		// A follower applies the last member's addition once a heartbeat
		// carries the commit to it: let one go by (fake time).
		time.Sleep(200 * time.Millisecond) // the default heartbeat interval
		synctest.Wait()
		for i, m := range ms {
			st, err := rafted.GetStatus(ctx, c.node(i), m.Server())
			if err != nil || len(st.Members) != 3 || st.Leader != ms[0].PID {
				t.Fatalf("member %d status %+v, %v", i, st, err)
			}
		}
		// A follower answers with the leader, also to a caller on another
		// node (the typed error crosses the wire).
		_, err := rafted.Command(ctx, c.node(0), ms[1].Server(), put("k", 1), "")
		var nl rafted.NotLeaderError
		if !errors.Is(err, rafted.ErrNotLeader) || !errors.As(err, &nl) || nl.Leader != ms[0].PID {
			t.Fatalf("command on follower: %v", err)
		}
		_, err = rafted.Query(ctx, c.node(0), ms[2].Server(), "k")
		if !errors.Is(err, rafted.ErrNotLeader) {
			t.Fatalf("query on follower: %v", err)
		}
		// Joining through a follower is redirected to the leader.
		c.addNode("n4")
		m4, err := rafted.Start(ctx, c.node(3), rafted.Options{NewData: newKV, Join: []rafted.Server{ms[2].Server()}, Name: "rv"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := rafted.GetStatus(ctx, c.node(0), ms[0].Server())
		if err != nil || len(st.Members) != 4 {
			t.Fatalf("after join via follower: %+v, %v", st, err)
		}
		time.Sleep(time.Second)
		st4, err := rafted.GetStatus(ctx, c.node(3), m4.Server())
		if err != nil || st4.Leader != ms[0].PID || len(st4.Members) != 4 {
			t.Fatalf("new member status %+v, %v", st4, err)
		}
	})
}
