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
	"github.com/gotp-dev/gotp/supervisor"
)

// The peer service runs as a child of a user's supervisor: it joins, and when
// its own supervisor is killed the user's restarts it, and it gets
// membership back from its peers.
func TestChildSpecInUserTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := transport.NewNetwork(28)
		b := startNode(t, net, "b", peerservice.Config{HeartbeatInterval: hb}, remote.Config{})
		n, err := actor.NewNode(actor.Config{Name: "a"})
		if err != nil {
			t.Fatal(err)
		}
		cfg := peerservice.Config{HeartbeatInterval: hb}
		pol := peerservice.NewPolicy(cfg)
		r, err := remote.Start(n, pol.RemoteConfig(remote.Config{Cookie: "test-cookie", Transport: net.Transport("a"), Listen: []string{"a"}}))
		if err != nil {
			t.Fatal(err)
		}
		child, svc, err := peerservice.ChildSpec("peers", n, r, pol, cfg)
		if err != nil {
			t.Fatal(err)
		}
		top, err := supervisor.Start(n, supervisor.Spec{Intensity: 3, Children: []supervisor.ChildSpec{child}})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := supervisor.Stop(context.Background(), n, top); err != nil {
				t.Errorf("stop the user's supervisor: %v", err)
			}
			if err := svc.Stop(context.Background()); err != nil {
				t.Errorf("stop the service: %v", err)
			}
			r.Stop()
			_ = n.Stop(context.Background())
		}()
		if err := svc.SyncJoin(t.Context(), b.spec()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * hb)
		want := []string{"a", "b"}
		if got, err := svc.Members(t.Context()); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("members %v (%v), want %v", got, err, want)
		}
		old := svc.Supervisor()
		if err := n.Exit(old, actor.Kill); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * hb)
		if now := svc.Supervisor(); now == old || now.IsZero() {
			t.Fatalf("the service's supervisor was not restarted by the user's (old %v, now %v)", old, now)
		}
		if got, err := svc.Members(t.Context()); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("after the restart: members %v (%v), want %v", got, err, want)
		}
	})
}
