// Command peerservice runs a small client-server cluster in one process over
// loopback TCP: two servers and two clients join, a client sends to the other
// client through a server (clients refuse each other), a server is killed,
// the clients' failure detectors report it within the heartbeat bound, and
// the clients keep talking through the other server.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
)

const (
	heartbeat = 100 * time.Millisecond
	missed    = 3
)

type member struct {
	node *actor.Node
	svc  *peerservice.Service
}

func start(name string, role peerservice.Role) (*member, error) {
	node, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		return nil, err
	}
	svc, err := peerservice.StartNode(node,
		remote.Config{Cookie: "example-cookie", Listen: []string{"127.0.0.1:0"}},
		peerservice.Config{
			Topology: peerservice.ClientServer, Role: role,
			HeartbeatInterval: heartbeat, MissedHeartbeats: missed, GossipInterval: heartbeat,
		})
	if err != nil {
		return nil, err
	}
	return &member{node: node, svc: svc}, nil
}

func (m *member) stop() {
	_ = m.svc.Stop(context.Background())
	_ = m.node.Stop(context.Background())
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	s1, err := start("s1", peerservice.Server)
	if err != nil {
		return err
	}
	s2, err := start("s2", peerservice.Server)
	if err != nil {
		return err
	}
	defer s2.stop()
	c1, err := start("c1", peerservice.Client)
	if err != nil {
		return err
	}
	defer c1.stop()
	c2, err := start("c2", peerservice.Client)
	if err != nil {
		return err
	}
	defer c2.stop()

	seen := make(chan int, 64)
	c1.svc.Subscribe(func(e peerservice.MembershipEvent) { seen <- len(e.Members) })
	up := make(chan string, 8)
	c1.svc.OnUp("", func(s remote.NodeSpec) { up <- s.Name })
	down := make(chan time.Time, 1)
	c1.svc.OnDown("s1", func(remote.NodeSpec) { down <- time.Now() })

	// s2 and c1 join through s1; c2 tries c1, which refuses it and refers it
	// to a server.
	for _, j := range []struct {
		who  *member
		seed *member
	}{{s2, s1}, {c1, s1}, {c2, c1}} {
		if err := j.who.svc.SyncJoin(ctx, j.seed.svc.Myself()); err != nil {
			return fmt.Errorf("%s joins %s: %w", j.who.node.Name(), j.seed.node.Name(), err)
		}
	}
	fmt.Printf("c2 joined through c1 and was referred: connected to %v\n", peerNames(c2))

	// Wait (on membership events, not by polling) until c1 sees everyone.
	for n := 0; n < 4; {
		select {
		case n = <-seen:
		case <-ctx.Done():
			return fmt.Errorf("membership did not converge: %w", ctx.Err())
		}
	}
	members, _ := c1.svc.Members(ctx)
	fmt.Printf("c1 sees members %v\n", members)
	for range 2 { // both servers heard from
		select {
		case <-up:
		case <-ctx.Done():
			return fmt.Errorf("servers not up: %w", ctx.Err())
		}
	}

	// A registered inbox on c2; c1 sends to it through a server.
	inbox := make(chan any, 16)
	if _, err := c2.node.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		inbox <- msg
		return nil
	}), actor.WithName("inbox")); err != nil {
		return err
	}
	send := func(msg string) error {
		if err := c1.svc.ForwardMessage(ctx, peerservice.ToName("c2", "inbox"), msg, peerservice.ForwardOptions{}); err != nil {
			return err
		}
		select {
		case got := <-inbox:
			fmt.Printf("c2 received %q (c1 and c2 directly connected: %v)\n", got, c1.svc.Remote().IsConnected("c2"))
			return nil
		case <-ctx.Done():
			return fmt.Errorf("message %q lost: %w", msg, ctx.Err())
		}
	}
	if err := send("hello through a server"); err != nil {
		return err
	}

	// Kill s1: the failure detector notices within the bound.
	killed := time.Now()
	s1.stop()
	select {
	case at := <-down:
		fmt.Printf("c1: s1 is down after %v (bound %v)\n", at.Sub(killed).Round(time.Millisecond), (missed+1)*heartbeat)
	case <-ctx.Done():
		return fmt.Errorf("s1 failure not detected: %w", ctx.Err())
	}
	return send("hello through the other server")
}

func peerNames(m *member) []string {
	var out []string
	for _, p := range m.svc.Remote().Peers() {
		out = append(out, p.Name)
	}
	return out
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "peerservice example:", err)
		os.Exit(1)
	}
}
