package ensemble_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/ensemble"
)

// A node with a DataDir that restarts and joins its cluster again resumes
// its peers from their Raft state: the peer keeps its term and log, catches
// up, and serves what was written before and while it was down, with either
// backend.
func TestRestartedNodeResumesItsPeers(t *testing.T) {
	for _, backend := range []string{ensemble.MemoryBackend, ensemble.FileBackend} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				c := newCluster(t, 21, 3, ensemble.Config{DataDir: dir, SnapshotEvery: 8})
				c.form()
				ctx, cancel := ctxT(30 * time.Second)
				defer cancel()
				if err := c.svc("n1").CreateEnsemble(ctx, "e1", c.names, backend); err != nil {
					t.Fatal(err)
				}
				leader := c.waitLeader("e1", c.names)
				victim := follower(leader)
				cl := c.svc(leader).Client()
				// Enough writes for snapshots to be taken and the log
				// compacted behind them.
				for i := range 20 {
					if _, err := cl.KOver(ctx, "e1", fmt.Sprint("k", i), []byte(fmt.Sprint("before-", i))); err != nil {
						t.Fatal(err)
					}
				}
				before, err := c.svc(victim).PeerStatus(ctx, victim, "e1")
				if err != nil {
					t.Fatal(err)
				}
				c.stopNode(victim)
				// Written while n3 is down: it learns them on its return.
				if _, err := cl.KOver(ctx, "e1", "while-down", []byte("yes")); err != nil {
					t.Fatal(err)
				}
				c.addNode(victim)
				if err := c.svc(victim).Join(ctx, leader); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Second) // heartbeats bring it up to date
				after, err := c.svc(victim).PeerStatus(ctx, victim, "e1")
				if err != nil {
					t.Fatalf("no peer of e1 on the restarted node: %v", err)
				}
				if after.Term < before.Term || after.Applied <= before.Applied || len(after.Members) != 3 {
					t.Fatalf("resumed peer %+v, before the restart %+v", after, before)
				}
				got, err := c.svc(victim).Client().KGet(ctx, "e1", "k7")
				if err != nil || string(got.Value) != "before-7" {
					t.Fatalf("k7 through the restarted node: %+v, %v", got, err)
				}
				got, err = c.svc(victim).Client().KGet(ctx, "e1", "while-down")
				if err != nil || string(got.Value) != "yes" {
					t.Fatalf("a key written while it was down: %+v, %v", got, err)
				}
			})
		})
	}
}

// A peer whose Raft state is damaged does not resume: the node logs it and
// the ensemble carries on with the others.
func TestDamagedPeerDirIsNotResumed(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 22, 3, ensemble.Config{DataDir: dir})
		c.form()
		ctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		if err := c.svc("n1").CreateEnsemble(ctx, "e1", c.names, ""); err != nil {
			t.Fatal(err)
		}
		leader := c.waitLeader("e1", c.names)
		victim := follower(leader)
		if _, err := c.svc(leader).Client().KOver(ctx, "e1", "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		c.stopNode(victim)
		if err := os.Remove(filepath.Join(dir, victim, "e1", "raft", "log")); err != nil {
			t.Fatal(err)
		}
		c.addNode(victim)
		if err := c.svc(victim).Join(ctx, leader); err != nil {
			t.Fatal(err)
		}
		short, cancelShort := context.WithTimeout(ctx, time.Second)
		defer cancelShort()
		if st, err := c.svc(victim).PeerStatus(short, victim, "e1"); err == nil {
			t.Fatalf("a peer with its log gone resumed: %+v", st)
		}
		if got, err := c.svc(leader).Client().KGet(ctx, "e1", "k"); err != nil || string(got.Value) != "v" {
			t.Fatalf("the others serve: %+v, %v", got, err)
		}
	})
}

// follower is a node of n1..n3 other than leader.
func follower(leader string) string {
	for _, n := range []string{"n3", "n2", "n1"} {
		if n != leader {
			return n
		}
	}
	return ""
}
