package peerservice_test

import (
	"context"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
)

// waitMembers returns once n's subscription reports want members, or fails
// when ctx ends. It waits on events, not by polling.
func waitMembers(ctx context.Context, t *testing.T, events <-chan peerservice.MembershipEvent, want int) {
	t.Helper()
	for {
		select {
		case e := <-events:
			if len(e.Members) == want {
				return
			}
		case <-ctx.Done():
			t.Fatalf("membership of %d not reached: %v", want, ctx.Err())
		}
	}
}

// A client-server cluster over real TCP on loopback: formation, a
// client-to-client message through the server, and a refusal with referral.
func TestClientServerOverTCP(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cfg := func(role peerservice.Role) peerservice.Config {
		c := csConfig(role)
		c.HeartbeatInterval = 50 * time.Millisecond
		c.GossipInterval = 50 * time.Millisecond
		return c
	}
	rcfg := remote.Config{Listen: []string{"127.0.0.1:0"}}
	s1 := startNode(t, nil, "s1", cfg(peerservice.Server), rcfg)
	c1 := startNode(t, nil, "c1", cfg(peerservice.Client), rcfg)
	c2 := startNode(t, nil, "c2", cfg(peerservice.Client), rcfg)
	events := make(chan peerservice.MembershipEvent, 64)
	c1.svc.Subscribe(func(e peerservice.MembershipEvent) { events <- e })

	syncJoin(t, c1, s1)
	// c2 joins through c1: refused, referred to s1.
	if err := c2.svc.SyncJoin(ctx, c1.spec()); err != nil {
		t.Fatal(err)
	}
	if !c2.svc.Remote().IsConnected("s1") || c2.svc.Remote().IsConnected("c1") {
		t.Fatalf("c2 peers after referral: %v", c2.svc.Remote().Peers())
	}
	waitMembers(ctx, t, events, 3)

	sk := spawnSink(t, c2, "inbox")
	for i := range 50 {
		if err := c1.svc.ForwardMessage(ctx, peerservice.ToName("c2", "inbox"), i, peerservice.ForwardOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 50 {
		select {
		case m := <-sk.ch:
			if m != i {
				t.Fatalf("message %d is %v", i, m)
			}
		case <-ctx.Done():
			t.Fatalf("relayed message %d did not arrive", i)
		}
	}
}
