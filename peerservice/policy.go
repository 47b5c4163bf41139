package peerservice

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/gotp-dev/gotp/actor"

	"github.com/gotp-dev/gotp/remote"
)

// Policy is the peer service's remote.Policy: it refuses client-to-client
// connections with a referral to a server and routes client-to-client traffic
// through a server. The manager keeps it up to date; the remote layer reads it
// from connection goroutines. Make one with NewPolicy, put it in
// remote.Config with RemoteConfig before remote.Start, and hand it to Start.
type Policy struct {
	topology Topology
	role     Role

	mu         sync.RWMutex
	self       string
	roles      map[string]Role // members' roles
	servers    []remote.NodeSpec
	failed     map[string]bool // servers the failure detector holds failed
	partitions []Partition
	// cutting is set while any partition is injected, so that Admit costs
	// one atomic load when none is.
	cutting atomic.Bool
	// lost holds the servers whose connection the remote layer reported
	// down and not up again since (remote.PeerDown, remote.PeerUp).
	lost map[string]bool
}

var (
	_ remote.Policy = (*Policy)(nil)
	_ remote.Filter = (*Policy)(nil)
)

// Admit implements remote.Filter: while a partition is injected, messages and
// calls to a node on the other side of it fail with ErrPartitioned, whoever
// sends them; the managers' own traffic (membership, heartbeats) still flows.
func (p *Policy) Admit(env actor.Envelope, dest string) error {
	if !p.cutting.Load() || env.ToName.Name == ManagerName {
		return nil
	}
	if p.partitioned(dest) {
		return fmt.Errorf("%w: %s", ErrPartitioned, dest)
	}
	return nil
}

// NewPolicy returns the policy for a node configured with cfg.
func NewPolicy(cfg Config) *Policy {
	if cfg.Role == "" {
		cfg.Role = Server
	}
	return &Policy{topology: cfg.Topology, role: cfg.Role, roles: map[string]Role{}, failed: map[string]bool{}, lost: map[string]bool{}}
}

// RemoteConfig returns rcfg with this policy installed and the node's role
// added to its tags.
func (p *Policy) RemoteConfig(rcfg remote.Config) remote.Config {
	rcfg.Policy = p
	rcfg.Tags = maps.Clone(rcfg.Tags)
	if rcfg.Tags == nil {
		rcfg.Tags = map[string]string{}
	}
	rcfg.Tags[RoleTag] = string(p.role)
	return rcfg
}

func (p *Policy) isClient() bool { return p.topology == ClientServer && p.role == Client }

// Accept implements remote.Policy: a client refuses other clients and refers
// them to a server it knows.
func (p *Policy) Accept(peer remote.NodeSpec) error {
	if !p.isClient() || roleOf(peer) != Client {
		return nil
	}
	ref := &remote.Refusal{Reason: "a client accepts connections from servers only"}
	if s, ok := p.relay(); ok {
		ref.Referral = s
	}
	return ref
}

// Route implements remote.Policy: a client sends directly only to servers; to
// another client, or to a node whose role it has not learned yet, it sends
// through the first server (by name) that its failure detector does not hold
// failed and whose connection the remote layer has not reported lost, so
// that everything it sends to one client takes one path and stays in order.
// With every such server lost it takes the first one not held failed, which
// the remote layer dials again.
func (p *Policy) Route(dest string) (string, error) {
	if !p.isClient() {
		return dest, nil
	}
	p.mu.RLock()
	role, known := p.roles[dest]
	p.mu.RUnlock()
	if role == Server {
		return dest, nil
	}
	s, ok := p.relay()
	switch {
	case ok:
		// Another client, or a node whose role this client has not learned
		// yet (membership still spreading): a server knows the way.
		return s.Name, nil
	case !known:
		// No server known at all: the node is bootstrapping; try directly.
		return dest, nil
	}
	return "", ErrNoServer
}

// relay picks the server to relay through: the first, by name, neither held
// failed nor lost; else the first not held failed.
func (p *Policy) relay() (remote.NodeSpec, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var first *remote.NodeSpec
	for i, s := range p.servers {
		if p.failed[s.Name] {
			continue
		}
		if !p.lost[s.Name] {
			return s, true
		}
		if first == nil {
			first = &p.servers[i]
		}
	}
	if first == nil {
		return remote.NodeSpec{}, false
	}
	return *first, true
}

// peerEvent takes in what the remote layer says of a connection.
func (p *Policy) peerEvent(e remote.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case remote.PeerDown:
		p.lost[e.Peer.Name] = true
	case remote.PeerUp:
		delete(p.lost, e.Peer.Name)
	}
}

// partitioned reports whether an injected partition cuts traffic to dest.
func (p *Policy) partitioned(dest string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, pt := range p.partitions {
		if pt.Origin == dest || (pt.Origin == p.self && dest != p.self) {
			return true
		}
	}
	return false
}

func (p *Policy) isMember(name string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.roles[name]
	return ok
}

func (p *Policy) isRelayed(dest string) bool {
	if !p.isClient() {
		return false
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.roles[dest] == Client
}

// update copies what the policy needs from the core.
func (p *Policy) update(c *core) {
	roles := map[string]Role{}
	var servers []remote.NodeSpec
	for _, m := range c.members() {
		roles[m.Name] = roleOf(m)
		if roleOf(m) == Server && m.Name != c.self.Name {
			servers = append(servers, m)
		}
	}
	failed := map[string]bool{}
	for name, w := range c.det.peers {
		if w.failed {
			failed[name] = true
		}
	}
	parts := c.partitionList()
	p.mu.Lock()
	p.self = c.self.Name
	p.roles, p.servers, p.failed, p.partitions = roles, servers, failed, parts
	p.cutting.Store(len(parts) > 0)
	p.mu.Unlock()
}
