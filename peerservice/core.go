package peerservice

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gotp-dev/gotp/remote"
)

// core is the peer service protocol: membership (an ORSet gossiped between
// peers), the failure detector, partitions and acknowledged forwarding. It
// has no goroutines, clocks or I/O: the manager process feeds it messages and
// ticks with the time, and carries out the effects it returns.
type core struct {
	cfg   Config
	self  remote.NodeSpec
	actor string

	set     *ORSet
	det     *detector
	targets map[string]remote.NodeSpec // peers this node keeps connections to
	// memberNames is the membership as refreshTargets last saw it.
	memberNames map[string]bool
	left        bool
	rng         *rand.Rand

	dropAt map[string]time.Time // removed peers to disconnect once told

	partitions map[string]Partition
	seenParts  map[string]bool // refs injected or resolved here, for flooding once

	nextID uint64
	out    map[string]*outStream // acknowledged forwards sent, per destination
	in     map[string]*inStream  // acknowledged forwards received, per sender actor

	reserved map[string]int

	gossipRounds int
	pushedDigest uint64 // the digest of the state the last gossip round pushed
}

// Partition is an injected partition as one node holds it: application
// traffic between Origin and the nodes that hold the partition is cut.
type Partition struct {
	Ref    string
	Origin string
}

// outMsg is a message for another node's manager. ifConnected says to drop
// it rather than dial: of two peers only one dials the other (see dials), so
// that they never dial each other at once.
type outMsg struct {
	to          string
	msg         any
	ifConnected bool
}

// effects is what the manager must do after the core handled something.
type effects struct {
	sends      []outMsg
	disconnect []string
	up, down   []remote.NodeSpec
	changed    bool // membership changed: persist, tell subscribers
	joins      []remote.NodeSpec
	learn      []remote.NodeSpec // new peers whose addresses remote must know
	connect    []remote.NodeSpec // peers to open every channel's connections to
	deliver    []forwardMsg
	user       []userMsg
	// declareDown lists nodes reached only through a relay that are now
	// unreachable: the remote layer fires every link, monitor and call
	// toward them (remote.DeclareDown).
	declareDown []relayedDown
}

// relayedDown is a relayed node found down, and who found it.
type relayedDown struct {
	node, by string
}

func (e *effects) send(to string, msg any) { e.sends = append(e.sends, outMsg{to: to, msg: msg}) }

// sendPeer sends to a peer over an existing connection, or dials it if this
// node is the one that dials.
func (c *core) sendPeer(eff *effects, to string, msg any) {
	eff.sends = append(eff.sends, outMsg{to: to, msg: msg, ifConnected: !c.dials(to)})
}

// dials reports whether this node opens the connections to peer: a client
// dials servers, and of two servers (or two full-mesh members) the one with
// the smaller name dials. The other side waits for the connection, except
// when probing a failed peer (a restarted node may know nobody).
func (c *core) dials(peer string) bool {
	if c.cfg.Topology == ClientServer {
		if c.cfg.Role == Client {
			return true
		}
		if spec, ok := c.targets[peer]; ok && roleOf(spec) == Client {
			return false
		}
	}
	return c.self.Name < peer
}

func newCore(cfg Config, self remote.NodeSpec, actor string, now time.Time) *core {
	seed := cfg.Seed
	c := &core{
		cfg:        cfg,
		self:       cloneSpec(self),
		actor:      actor,
		set:        NewORSet(actor),
		det:        newDetector(cfg.HeartbeatInterval, cfg.MissedHeartbeats, cfg.ReconnectBackoff, cfg.MaxReconnectBackoff),
		targets:    map[string]remote.NodeSpec{},
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		dropAt:     map[string]time.Time{},
		partitions: map[string]Partition{},
		seenParts:  map[string]bool{},
		out:        map[string]*outStream{},
		in:         map[string]*inStream{},
		reserved:   map[string]int{},
	}
	c.det.jitter = c.jitter
	c.set.Add(c.self)
	return c
}

// jitter returns a random duration in [0, d).
func (c *core) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(c.rng.Int64N(int64(d)))
}

// restore merges a saved state, keeping this node a member under its own
// spec.
func (c *core) restore(st State, now time.Time) {
	c.set.Merge(st)
	if !c.set.HasOwn(c.self.Name) {
		c.set.Add(c.self)
	}
	c.set.RemoveOthers(c.self.Name)
	var eff effects
	c.refreshTargets(now, &eff)
}

// members returns the membership as this node sees it.
func (c *core) members() []remote.NodeSpec {
	if c.left {
		return []remote.NodeSpec{cloneSpec(c.self)}
	}
	return c.set.Members()
}

// view returns the membership as this node's Members reports it: a client
// of a client-server cluster sees the servers and itself, as a Partisan
// client does, though it knows every member.
func (c *core) view() []remote.NodeSpec {
	all := c.members()
	if c.cfg.Topology != ClientServer || c.cfg.Role != Client {
		return all
	}
	out := all[:0]
	for _, m := range all {
		if m.Name == c.self.Name || roleOf(m) == Server {
			out = append(out, m)
		}
	}
	return out
}

// wants reports whether this node keeps a connection to spec.
func (c *core) wants(spec remote.NodeSpec) bool {
	switch {
	case c.left || spec.Name == c.self.Name:
		return false
	case c.cfg.Topology == FullMesh, c.cfg.Role == Server:
		return true
	}
	return roleOf(spec) == Server
}

// refreshTargets brings the set of peers in line with membership.
func (c *core) refreshTargets(now time.Time, eff *effects) {
	current := map[string]remote.NodeSpec{}
	if !c.left {
		for _, m := range c.set.Members() {
			if c.wants(m) {
				current[m.Name] = m
			}
		}
	}
	for name, spec := range c.targets {
		if _, ok := current[name]; ok {
			continue
		}
		if c.det.isUp(name) {
			eff.down = append(eff.down, spec)
		}
		c.det.unwatch(name)
		delete(c.targets, name)
		if !c.set.Contains(name) {
			// Give the removal one interval to reach it before cutting it off.
			c.dropAt[name] = now.Add(c.cfg.HeartbeatInterval)
		}
		c.dropPending(name)
	}
	// Forwards to a member that is gone (a client, which is no target of a
	// client) are given up too: nobody would acknowledge them.
	members := map[string]bool{}
	if !c.left {
		for _, m := range c.set.Members() {
			members[m.Name] = true
		}
	}
	for name := range c.memberNames {
		if !members[name] {
			c.dropPending(name)
		}
	}
	c.memberNames = members
	for name, spec := range current {
		if old, ok := c.targets[name]; !ok || !slices.Equal(old.Addrs, spec.Addrs) {
			eff.learn = append(eff.learn, spec)
		}
		if _, ok := c.targets[name]; !ok && c.dials(name) {
			eff.connect = append(eff.connect, spec)
		}
		c.targets[name] = spec
		c.det.watch(name, now)
		delete(c.dropAt, name)
	}
}

func (c *core) targetNames() []string {
	names := make([]string, 0, len(c.targets))
	for n := range c.targets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (c *core) gossip(reply bool) gossipMsg {
	return gossipMsg{From: c.self.Name, Digest: c.set.Digest(), Reply: reply, State: c.set.State()}
}

// pushAll sends the state to every peer.
func (c *core) pushAll(eff *effects) {
	g := c.gossip(false)
	for _, n := range c.targetNames() {
		c.sendPeer(eff, n, g)
	}
}

// heartbeatTick sends heartbeats, fails silent peers and probes failed ones.
func (c *core) heartbeatTick(now time.Time) effects {
	var eff effects
	for _, name := range sortedKeys(c.dropAt) {
		if !now.Before(c.dropAt[name]) {
			delete(c.dropAt, name)
			eff.disconnect = append(eff.disconnect, name)
		}
	}
	if c.left {
		return eff
	}
	failed, wentDown, probe := c.det.tick(now)
	eff.disconnect = append(eff.disconnect, failed...)
	c.relayedFailures(failed, &eff)
	for _, n := range wentDown {
		eff.down = append(eff.down, c.targets[n])
	}
	hb := heartbeatMsg{From: c.self.Name, Digest: c.set.Digest()}
	for _, n := range c.targetNames() {
		if w := c.det.peers[n]; w != nil && !w.failed {
			c.sendPeer(&eff, n, hb)
		}
	}
	for _, n := range probe {
		eff.send(n, hb)
		eff.connect = append(eff.connect, c.targets[n])
	}
	c.forgetQuietSenders(now, &eff)
	return eff
}

// gossipTick offers the state to GossipFanout random live peers.
func (c *core) gossipTick(now time.Time) effects {
	var eff effects
	if c.left {
		return eff
	}
	c.gossipRounds++
	var live []string
	for _, n := range c.targetNames() {
		if w := c.det.peers[n]; w != nil && !w.failed {
			live = append(live, n)
		}
	}
	c.rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	if len(live) > c.cfg.GossipFanout {
		live = live[:c.cfg.GossipFanout]
	}
	// A round after a change pushes the state; a quiet round sends only the
	// digest, which a peer holding another state answers with its own (and
	// the two merge both ways), so a settled cluster sends no states.
	var msg any = heartbeatMsg{From: c.self.Name, Digest: c.set.Digest()}
	if d := c.set.Digest(); d != c.pushedDigest {
		c.pushedDigest = d
		msg = c.gossip(false)
	}
	for _, n := range live {
		c.sendPeer(&eff, n, msg)
	}
	return eff
}

// heard notes a sign of life from a peer.
func (c *core) heard(from string, now time.Time, eff *effects) {
	if c.det.heard(from, now) {
		eff.up = append(eff.up, c.targets[from])
	}
}

// relayedFailures spreads what failed peers mean for nodes that are reached
// only through servers. A server tells its clients of each client it found
// failed. A client that lost a server declares every other client down: what
// it sent to them, or they to it, may have been in the lost server's queues,
// and it cannot tell which clients relayed through which server.
func (c *core) relayedFailures(failed []string, eff *effects) {
	if c.cfg.Topology != ClientServer || len(failed) == 0 {
		return
	}
	if c.cfg.Role == Server {
		for _, n := range failed {
			if roleOf(c.targets[n]) != Client {
				continue
			}
			msg := nodeDownMsg{From: c.self.Name, Node: n}
			for _, to := range c.targetNames() {
				if w := c.det.peers[to]; to != n && roleOf(c.targets[to]) == Client && w != nil && !w.failed {
					c.sendPeer(eff, to, msg)
				}
			}
		}
		return
	}
	for _, n := range failed {
		if roleOf(c.targets[n]) != Server {
			continue
		}
		for _, m := range c.set.Members() {
			if m.Name != c.self.Name && roleOf(m) == Client {
				eff.declareDown = append(eff.declareDown, relayedDown{node: m.Name, by: n})
			}
		}
		return
	}
}

// handleNodeDown takes a server's word that a client is down.
func (c *core) handleNodeDown(m nodeDownMsg) effects {
	var eff effects
	if c.left || c.cfg.Topology != ClientServer || c.cfg.Role != Client || m.Node == c.self.Name {
		return eff
	}
	if spec, ok := c.set.Lookup(m.Node); ok && roleOf(spec) == Client {
		eff.declareDown = append(eff.declareDown, relayedDown{node: m.Node, by: m.From})
	}
	return eff
}

func (c *core) handleHeartbeat(m heartbeatMsg, now time.Time) effects {
	var eff effects
	if !c.left {
		c.heard(m.From, now, &eff)
	}
	if m.Digest != c.set.Digest() {
		eff.send(m.From, c.gossip(false))
	}
	return eff
}

func (c *core) handleGossip(m gossipMsg, now time.Time) effects {
	var eff effects
	if c.left {
		// A node that left answers with the state that says so, and takes
		// nothing in until it joins again.
		if !m.Reply && m.Digest != c.set.Digest() {
			eff.send(m.From, c.gossip(true))
		}
		return eff
	}
	c.heard(m.From, now, &eff)
	if c.set.Merge(m.State) {
		eff.changed = true
		if !c.set.HasOwn(c.self.Name) {
			// Another node removed this one: it leaves.
			c.becomeLeft(now, &eff)
			return eff
		}
		// A node is the authority on its own spec: the adds of its
		// earlier incarnations (an older address, older tags) go, so that
		// its current spec wins on every node, whatever the dots compare.
		c.set.RemoveOthers(c.self.Name)
		c.refreshTargets(now, &eff)
	}
	if !m.Reply && c.set.Digest() != m.Digest {
		eff.send(m.From, c.gossip(true))
	}
	return eff
}

func (c *core) becomeLeft(now time.Time, eff *effects) {
	c.left = true
	c.refreshTargets(now, eff)
	eff.down = nil // leaving is not a failure of the others
	eff.changed = true
}

// joined records a peer this node has connected to.
func (c *core) joined(spec remote.NodeSpec, now time.Time) effects {
	var eff effects
	if c.left {
		c.set.Reset()
		c.set.Add(c.self)
		c.left = false
		eff.changed = true
	}
	if spec.Name != c.self.Name && !c.set.Contains(spec.Name) {
		c.set.Add(spec)
		eff.changed = true
	}
	c.refreshTargets(now, &eff)
	if spec.Name != c.self.Name {
		eff.send(spec.Name, c.gossip(false))
	}
	if eff.changed {
		c.pushAll(&eff)
	}
	return eff
}

// leave removes this node from the cluster.
func (c *core) leave(now time.Time) effects {
	var eff effects
	if c.left {
		return eff
	}
	c.set.Remove(c.self.Name)
	c.pushAll(&eff)
	c.becomeLeft(now, &eff)
	return eff
}

// leaveNode removes another node.
func (c *core) leaveNode(name string, now time.Time) effects {
	if name == c.self.Name {
		return c.leave(now)
	}
	var eff effects
	if c.left || !c.set.Remove(name) {
		return eff
	}
	eff.changed = true
	c.pushAll(&eff) // the removed node is still a target: it hears too
	c.refreshTargets(now, &eff)
	return eff
}

// updateMembers makes membership equal specs: missing nodes are joined,
// extra ones removed.
func (c *core) updateMembers(specs []remote.NodeSpec, now time.Time) effects {
	var eff effects
	want := map[string]bool{c.self.Name: true}
	for _, s := range specs {
		want[s.Name] = true
		if s.Name != c.self.Name && (c.left || !c.set.Contains(s.Name)) {
			eff.joins = append(eff.joins, s)
		}
	}
	for _, m := range c.members() {
		if !want[m.Name] {
			e := c.leaveNode(m.Name, now)
			eff.merge(e)
		}
	}
	return eff
}

func (e *effects) merge(o effects) {
	e.sends = append(e.sends, o.sends...)
	e.disconnect = append(e.disconnect, o.disconnect...)
	e.up = append(e.up, o.up...)
	e.down = append(e.down, o.down...)
	e.changed = e.changed || o.changed
	e.joins = append(e.joins, o.joins...)
	e.learn = append(e.learn, o.learn...)
	e.connect = append(e.connect, o.connect...)
	e.deliver = append(e.deliver, o.deliver...)
	e.user = append(e.user, o.user...)
	e.declareDown = append(e.declareDown, o.declareDown...)
}

// injectPartition starts a partition around origin.
func (c *core) injectPartition(origin string, ttl int) (string, effects) {
	c.nextID++
	ref := fmt.Sprintf("%s#%d", c.actor, c.nextID)
	if origin == c.self.Name {
		return ref, c.handlePartition(partitionMsg{Ref: ref, Origin: origin, TTL: ttl})
	}
	var eff effects
	eff.send(origin, partitionMsg{Ref: ref, Origin: origin, TTL: ttl})
	return ref, eff
}

func (c *core) handlePartition(m partitionMsg) effects {
	var eff effects
	if m.Resolve {
		if c.seenParts["-"+m.Ref] {
			return eff
		}
		c.seenParts["-"+m.Ref] = true
		delete(c.partitions, m.Ref)
		for _, n := range c.targetNames() {
			c.sendPeer(&eff, n, m)
		}
		return eff
	}
	if c.seenParts[m.Ref] || c.seenParts["-"+m.Ref] {
		return eff
	}
	c.seenParts[m.Ref] = true
	c.partitions[m.Ref] = Partition{Ref: m.Ref, Origin: m.Origin}
	if m.TTL > 0 {
		next := partitionMsg{Ref: m.Ref, Origin: m.Origin, TTL: m.TTL - 1}
		for _, n := range c.targetNames() {
			c.sendPeer(&eff, n, next)
		}
	}
	return eff
}

// resolvePartition heals ref everywhere it reached.
func (c *core) resolvePartition(ref string) (effects, error) {
	if _, ok := c.partitions[ref]; !ok {
		return effects{}, fmt.Errorf("%w: %s", ErrUnknownPartition, ref)
	}
	return c.handlePartition(partitionMsg{Ref: ref, Resolve: true}), nil
}

func (c *core) partitionList() []Partition {
	out := make([]Partition, 0, len(c.partitions))
	for _, p := range c.partitions {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Partition) int { return strings.Compare(a.Ref, b.Ref) })
	return out
}

// reserve takes a slot for tag.
func (c *core) reserve(tag string) error {
	if c.reserved[tag] >= c.cfg.Reservations[tag] {
		return fmt.Errorf("%w: %q", ErrNoAvailableSlots, tag)
	}
	c.reserved[tag]++
	return nil
}

func sortedKeys[K interface{ ~string | ~uint64 }, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
