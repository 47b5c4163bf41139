package peerservice_test

import (
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// A node that left and restarts from its data directory stays out: leaving
// clears what was saved.
func TestLeaveClearsPersistedState(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(23)
		a := startNode(t, net, "a", peerservice.Config{HeartbeatInterval: hb, DataDir: dir}, remote.Config{})
		b := startNode(t, net, "b", peerservice.Config{HeartbeatInterval: hb}, remote.Config{})
		c := startNode(t, net, "c", peerservice.Config{HeartbeatInterval: hb}, remote.Config{})
		syncJoin(t, b, a)
		syncJoin(t, c, a)
		time.Sleep(3 * hb)
		if err := a.svc.Leave(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * hb)
		a.stop()
		time.Sleep(3 * hb)
		a2 := startNode(t, net, "a", peerservice.Config{HeartbeatInterval: hb, DataDir: dir}, remote.Config{})
		if got := a2.members(t); !reflect.DeepEqual(got, []string{"a"}) {
			t.Fatalf("restarted after leaving, a sees %v, want only itself", got)
		}
		time.Sleep(10 * hb)
		for _, n := range []*tnode{b, c} {
			if got := n.members(t); !reflect.DeepEqual(got, []string{"b", "c"}) {
				t.Errorf("%s sees %v after a left and restarted, want [b c]", n.name, got)
			}
		}
		if got := a2.members(t); !reflect.DeepEqual(got, []string{"a"}) {
			t.Errorf("a came back into the cluster it left: sees %v", got)
		}
	})
}
