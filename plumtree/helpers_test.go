package plumtree_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/plumtree"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// store is a test handler: a map of ids to payloads, and a count of the
// payloads that arrived (fresh or not).
type store struct {
	name     string
	mu       sync.Mutex
	data     map[any]any
	arrivals int
	// panicOn makes Merge panic for that payload.
	panicOn any
	// fresh, when set, is told every id merged fresh (for real-time tests).
	fresh chan any
}

func newStore() *store { return &store{name: "store", data: map[any]any{}} }

func (s *store) Name() string { return s.name }

func (s *store) BroadcastData(msg any) (any, any, error) {
	kv, ok := msg.([2]any)
	if !ok {
		return nil, nil, fmt.Errorf("not a pair: %T", msg)
	}
	if plumtree.ValidID(kv[0]) {
		s.mu.Lock()
		s.data[kv[0]] = kv[1]
		s.mu.Unlock()
	}
	return kv[0], kv[1], nil
}

func (s *store) Merge(id, payload any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arrivals++
	if s.panicOn != nil && payload == s.panicOn {
		panic("merge refuses this payload")
	}
	if _, ok := s.data[id]; ok {
		return false
	}
	s.data[id] = payload
	if s.fresh != nil {
		s.fresh <- id
	}
	return true
}

func (s *store) IsStale(id any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[id]
	return ok
}

func (s *store) Graft(id any) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.data[id]
	if !ok {
		return nil, fmt.Errorf("no message %v", id)
	}
	return p, nil
}

// Exchange pulls the peer's whole store (from its storeServer) and merges
// what is missing here, in a process of its own.
func (s *store) Exchange(p *actor.Process, peer string) (actor.PID, error) {
	pid, err := p.Spawn(actor.Func(func(q *actor.Process, msg any) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		v, err := q.Call(ctx, actor.Name{Node: peer, Name: storeServerName}, "dump")
		if err != nil {
			return actor.Normal
		}
		list, _ := v.([]any)
		s.mu.Lock()
		for i := 0; i+1 < len(list); i += 2 {
			if _, ok := s.data[list[i]]; !ok {
				s.data[list[i]] = list[i+1]
			}
		}
		s.mu.Unlock()
		return actor.Normal
	}))
	if err != nil {
		return actor.PID{}, err
	}
	return pid, p.Send(pid, "start")
}

func (s *store) has(id any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[id]
	return ok
}

func (s *store) arrived() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arrivals
}

// dump lists ids and payloads alternately, in no particular order.
func (s *store) dump() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for k, v := range s.data {
		out = append(out, k, v)
	}
	return out
}

const storeServerName = "test_store"

// pnode is a node with its peer service, broadcast server and store.
type pnode struct {
	*actor.Node
	name  string
	svc   *peerservice.Service
	srv   *plumtree.Server
	store *store
}

// bareCluster starts n nodes on net with only their remote layers (they
// find each other by name) and a broadcast server on each with cfg, the
// membership given and no peer service: for large clusters, without the
// peer service's heartbeats.
func bareCluster(t *testing.T, net *transport.Network, n int, cfg plumtree.Config) []*pnode {
	t.Helper()
	var nodes []*pnode
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("n%02d", i))
	}
	for _, name := range names {
		nd, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		r, err := remote.Start(nd, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name},
			Resolve: func(_ context.Context, node string) ([]string, error) { return []string{node}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		pn := &pnode{Node: nd, name: name, store: newStore()}
		spawnStoreServer(t, pn)
		c := cfg
		c.Handlers = []plumtree.Handler{pn.store}
		c.Members = names
		c.NoMembershipUpdates = true
		c.Seed = 1
		srv, err := plumtree.Start(nd, nil, c)
		if err != nil {
			t.Fatal(err)
		}
		pn.srv = srv
		t.Cleanup(func() {
			_ = srv.Stop(context.Background())
			r.Stop()
			_ = nd.Stop(context.Background())
		})
		nodes = append(nodes, pn)
	}
	return nodes
}

// cluster starts n nodes on net, joins them into one full-mesh cluster,
// waits until every node knows every member, and then starts a broadcast
// server on each with cfg (its Handlers replaced by the node's store).
func cluster(t *testing.T, net *transport.Network, n int, cfg plumtree.Config) []*pnode {
	t.Helper()
	var nodes []*pnode
	var names []string
	for i := range n {
		name := fmt.Sprintf("n%02d", i)
		names = append(names, name)
		nd, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := peerservice.StartNode(nd, remote.Config{Cookie: "c", Transport: net.Transport(name), Listen: []string{name}},
			peerservice.Config{HeartbeatInterval: time.Second, GossipInterval: time.Second, MissedHeartbeats: 3})
		if err != nil {
			t.Fatal(err)
		}
		pn := &pnode{Node: nd, name: name, svc: svc, store: newStore()}
		t.Cleanup(func() {
			if pn.srv != nil {
				_ = pn.srv.Stop(context.Background())
			}
			_ = svc.Stop(context.Background())
			_ = nd.Stop(context.Background())
		})
		nodes = append(nodes, pn)
	}
	for _, nd := range nodes[1:] {
		if err := nd.svc.Join(nodes[0].svc.Myself()); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("%d nodes did not form a cluster within a minute", n)
		}
		if everyoneKnows(t, nodes, names) {
			break
		}
	}
	for _, nd := range nodes {
		spawnStoreServer(t, nd)
		c := cfg
		c.Handlers = []plumtree.Handler{nd.store}
		c.Members = names
		c.Seed = 1
		srv, err := plumtree.Start(nd.Node, nd.svc, c)
		if err != nil {
			t.Fatal(err)
		}
		nd.srv = srv
	}
	return nodes
}

func everyoneKnows(t *testing.T, nodes []*pnode, names []string) bool {
	t.Helper()
	for _, nd := range nodes {
		m, err := nd.svc.Members(t.Context())
		if err != nil || !slices.Equal(m, names) {
			return false
		}
	}
	return true
}

func spawnStoreServer(t *testing.T, nd *pnode) {
	t.Helper()
	_, err := nd.Spawn(actor.Server(storeServer{nd.store}), actor.WithName(storeServerName))
	if err != nil {
		t.Fatal(err)
	}
}

type storeServer struct{ s *store }

func (ss storeServer) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	return ss.s.dump(), nil
}

// reach counts the nodes (among nodes) whose store holds id.
func reach(nodes []*pnode, id any) int {
	n := 0
	for _, nd := range nodes {
		if nd.store.has(id) {
			n++
		}
	}
	return n
}

func totalArrivals(nodes []*pnode) int {
	n := 0
	for _, nd := range nodes {
		n += nd.store.arrived()
	}
	return n
}
