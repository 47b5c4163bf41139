package peerservice_test

import (
	"context"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// startNodeAt starts name listening at addr with a fixed creation.
func startNodeAt(t *testing.T, net *transport.Network, name, addr string, creation uint32, cfg peerservice.Config) *tnode {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name, Creation: creation})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := peerservice.StartNode(n, remote.Config{Cookie: "test-cookie", Transport: net.Transport(addr), Listen: []string{addr}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tn := &tnode{Node: n, svc: svc, name: name}
	stopped := false
	tn.stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = svc.Stop(context.Background())
		_ = n.Stop(context.Background())
	}
	t.Cleanup(tn.stop)
	return tn
}

// A node restarted at a new address is known by its new spec everywhere,
// whatever its creation (creations are random: the new one may be smaller).
func TestRestartedNodeNewSpecWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(27)
		cfg := peerservice.Config{HeartbeatInterval: hb}
		a := startNodeAt(t, net, "a", "a", 5, cfg)
		b := startNodeAt(t, net, "b", "b", 5, cfg)
		c := startNodeAt(t, net, "c", "c-old", 9, cfg)
		syncJoin(t, b, a)
		syncJoin(t, c, a)
		time.Sleep(3 * hb)
		c.stop()
		time.Sleep(5 * hb)
		c = startNodeAt(t, net, "c", "c-new", 1, cfg)
		syncJoin(t, c, a)
		time.Sleep(10 * hb)
		for _, n := range []*tnode{a, b, c} {
			specs, err := n.svc.MembersForOrchestration(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, sp := range specs {
				if sp.Name == "c" && !reflect.DeepEqual(sp.Addrs, []string{"c-new"}) {
					t.Errorf("%s knows c at %v, want its new address [c-new]", n.name, sp.Addrs)
				}
			}
		}
	})
}
