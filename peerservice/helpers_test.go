package peerservice_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/remote/transport"
)

// tnode is a node with its remote layer and peer service.
type tnode struct {
	*actor.Node
	svc  *peerservice.Service
	name string
	stop func()
}

const hb = time.Second // heartbeat interval in tests

func csConfig(role peerservice.Role) peerservice.Config {
	return peerservice.Config{Topology: peerservice.ClientServer, Role: role, HeartbeatInterval: hb, MissedHeartbeats: 3}
}

// startNode starts name on net (listening on its own name) with cfg, and
// stops it when the test ends.
func startNode(t *testing.T, net *transport.Network, name string, cfg peerservice.Config, rcfg remote.Config) *tnode {
	t.Helper()
	n, err := actor.NewNode(actor.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if net != nil {
		rcfg.Transport = net.Transport(name)
		rcfg.Listen = []string{name}
	}
	rcfg.Cookie = "test-cookie"
	svc, err := peerservice.StartNode(n, rcfg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tn := &tnode{Node: n, svc: svc, name: name}
	var once sync.Once
	tn.stop = func() {
		once.Do(func() {
			if err := svc.Stop(context.Background()); err != nil {
				t.Errorf("stop service %s: %v", name, err)
			}
			if err := n.Stop(context.Background()); err != nil {
				t.Errorf("stop %s: %v", name, err)
			}
		})
	}
	t.Cleanup(tn.stop)
	return tn
}

func (n *tnode) spec() remote.NodeSpec { return n.svc.Myself() }

func (n *tnode) members(t *testing.T) []string {
	t.Helper()
	m, err := n.svc.Members(t.Context())
	if err != nil {
		t.Fatalf("members of %s: %v", n.name, err)
	}
	return m
}

// allMembers is members as AllMembers reports it: on a client, the other
// clients too.
func (n *tnode) allMembers(t *testing.T) []string {
	t.Helper()
	specs, err := n.svc.AllMembers(t.Context())
	if err != nil {
		t.Fatalf("all members of %s: %v", n.name, err)
	}
	var out []string
	for _, sp := range specs {
		out = append(out, sp.Name)
	}
	return out
}

func syncJoin(t *testing.T, a, b *tnode) {
	t.Helper()
	if err := a.svc.SyncJoin(t.Context(), b.spec()); err != nil {
		t.Fatalf("%s joins %s: %v", a.name, b.name, err)
	}
}

func nodeNames(nodes ...*tnode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.name)
	}
	slices.Sort(out)
	return out
}

// sink is a registered process that forwards what it receives to a channel.
type sink struct {
	pid actor.PID
	ch  chan any
}

func spawnSink(t *testing.T, n *tnode, name string) *sink {
	t.Helper()
	s := &sink{ch: make(chan any, 4096)}
	pid, err := n.Spawn(actor.Func(func(p *actor.Process, msg any) error {
		s.ch <- msg
		return nil
	}), actor.WithName(name))
	if err != nil {
		t.Fatal(err)
	}
	s.pid = pid
	return s
}

// drain returns what the sink holds now.
func (s *sink) drain() []any {
	var out []any
	for {
		select {
		case m := <-s.ch:
			out = append(out, m)
		default:
			return out
		}
	}
}

// recorder collects node names from callbacks, with the fake time they came.
type recorder struct {
	mu     sync.Mutex
	events []string
	times  []time.Time
}

func (r *recorder) fn(spec remote.NodeSpec) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, spec.Name)
	r.times = append(r.times, time.Now())
}

func (r *recorder) get() ([]string, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events), slices.Clone(r.times)
}

func actorName(node, name string) actor.Name { return actor.Name{Node: node, Name: name} }

func isNoConnection(err error) bool { return errors.Is(err, actor.ErrNoConnection) }
