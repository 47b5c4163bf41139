package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets"
	"github.com/gotp-dev/gotp/clusterlock"
	"github.com/gotp-dev/gotp/ensemble"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/supervisor"
)

// heartbeat paces the peer service's failure detector and gossip.
const heartbeat = 100 * time.Millisecond

// cookie is the cluster's shared secret (the console's too).
const cookie = "cluster-demo"

// Session is the record the replicated table holds.
type Session struct {
	User string
	Node string
}

// member is one node of the demo cluster: its peer service (with its own
// supervisor, started by StartNode), and under the node's application
// supervisor a cluster lock, the sessions table, the broadcast server, the
// ensemble service and the demo's agent.
type member struct {
	name     string
	role     peerservice.Role
	node     *actor.Node
	svc      *peerservice.Service
	sup      actor.PID
	tab      *cets.Table[string, Session]
	bcast    *plumtree.Server
	hits     *hits
	ens      *ensemble.Service
	stopOnce sync.Once
	// quit is closed once the node has stopped.
	quit chan struct{}
}

// startMember starts node name with its components.
func startMember(name string, role peerservice.Role) (*member, error) {
	node, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		return nil, err
	}
	m := &member{name: name, role: role, node: node, quit: make(chan struct{})}
	m.svc, err = peerservice.StartNode(node,
		remote.Config{Cookie: cookie, Listen: []string{"127.0.0.1:0"}},
		peerservice.Config{
			Topology: peerservice.ClientServer, Role: role,
			HeartbeatInterval: heartbeat, GossipInterval: heartbeat, MissedHeartbeats: 3,
		})
	if err != nil {
		_ = node.Stop(context.Background())
		return nil, err
	}
	tabSpec, tab, err := cets.ChildSpec(node, "sessions", cets.Options[string, Session]{
		Key: func(s Session) string { return s.User },
	})
	if err != nil {
		m.stop()
		return nil, err
	}
	m.tab = tab
	m.hits = newHits()
	bcastSpec, bcast, err := plumtree.ChildSpec("broadcast", node, m.svc, plumtree.Config{
		Handlers:           []plumtree.Handler{m.hits},
		LazyTickPeriod:     100 * time.Millisecond,
		ExchangeTickPeriod: time.Second,
	})
	if err != nil {
		m.stop()
		return nil, err
	}
	m.bcast = bcast
	ensSpec, ens, err := ensemble.ChildSpec(node, m.svc, ensemble.Config{
		Tick: 100 * time.Millisecond, FollowerTimeout: 600 * time.Millisecond, Lease: 150 * time.Millisecond,
	})
	if err != nil {
		m.stop()
		return nil, err
	}
	m.ens = ens
	m.sup, err = supervisor.Start(node, supervisor.Spec{
		Strategy: supervisor.OneForOne, Intensity: 5, Period: 10 * time.Second,
		Children: []supervisor.ChildSpec{clusterlock.ChildSpec("lock", clusterlock.Config{}), tabSpec, bcastSpec, ensSpec, agentSpec(m)},
	}, actor.WithName("app_sup"))
	if err != nil {
		m.stop()
		return nil, fmt.Errorf("%s: application supervisor: %w", name, err)
	}
	return m, nil
}

// stop stops the node: its supervision trees, its peer service and its
// distribution layer. It is safe to call more than once, and from any
// goroutine: the first call stops the node, the others wait for it.
func (m *member) stop() {
	m.stopOnce.Do(func() {
		defer close(m.quit)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if !m.sup.IsZero() {
			_ = supervisor.Stop(ctx, m.node, m.sup)
		}
		_ = m.svc.Stop(ctx)
		_ = m.node.Stop(ctx)
	})
	<-m.quit
}
