package actor

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
)

// This file is the distribution interface: the one small seam between a node
// and the layers that connect it to other nodes (package remote for gotp
// nodes, package erlang for Erlang ones). Applications never use it; they
// address processes of other nodes with PIDs and Names as they do local ones.

// EnvelopeKind says what an Envelope carries.
type EnvelopeKind uint8

// The kinds of traffic between nodes.
const (
	EnvMessage   EnvelopeKind = iota + 1 // a message to To or ToName
	EnvLink                              // From links to To (or ToName: the holder links back)
	EnvUnlink                            // From unlinks from To
	EnvLinkExit                          // From, linked to To, exited with Reason
	EnvExit                              // From sends To an exit signal with Reason
	EnvMonitor                           // From monitors To or ToName under Ref
	EnvDemonitor                         // From drops monitor Ref on To
	EnvDown                              // From, monitored by To under Ref, is gone with Reason
	EnvCall                              // a Call from From to To or ToName under Ref
	EnvReply                             // the answer (Message) to the request Ref
	EnvStop                              // StopProcess of To or ToName with Reason, answered as a call
	EnvWhereIs                           // Resolve ToName; answered with an EnvReply carrying the PID

	// LastEnvelopeKind is the highest kind this version knows.
	LastEnvelopeKind = EnvWhereIs
)

// Envelope is a message or signal bound for another node, as a distribution
// layer carries it. To names the destination process (or ToName a registered
// name); Ref routes EnvReply and alias EnvDown to the caller's node.
type Envelope struct {
	Kind    EnvelopeKind
	From    PID
	To      PID
	ToName  Name
	Ref     Ref
	Reason  error
	Message any
	// Alias marks an EnvDown whose watcher is a request waiter.
	Alias bool
	// Cleared marks an EnvReply whose callee already dropped the call's monitor.
	Cleared bool
}

// DestNode returns the node an envelope is for: its Ref's node for answers,
// else its destination's.
func (env *Envelope) DestNode() string {
	switch {
	case env.Kind == EnvReply || env.Kind == EnvDown && env.Alias:
		return env.Ref.Node
	case env.To.IsZero():
		return env.ToName.Node
	}
	return env.To.Node
}

// Distribution is implemented by a distribution layer. Forward carries env to
// env.DestNode(). It must not block for long: it queues the envelope or
// returns an error (one matching ErrNoConnection when the node cannot be
// reached, wrapping the cause). The node never forwards an envelope addressed
// to itself. A layer that also has a Stop() method is stopped by Node.Stop
// once the node's processes are gone.
type Distribution interface {
	Forward(env Envelope) error
}

// distBox is what the node forwards through: the layer Attach installed
// (for every node no route takes) and the layers AttachFor installed, each
// for the nodes its match accepts. It is replaced whole, never changed.
type distBox struct {
	d      Distribution
	def    *Endpoint // the endpoint of d
	routes []distRoute
}

type distRoute struct {
	match func(node string) bool
	d     Distribution
	ep    *Endpoint
}

// layerFor returns the layer that carries traffic for node, or nil.
func (b *distBox) layerFor(node string) Distribution {
	for _, r := range b.routes {
		if r.match(node) {
			return r.d
		}
	}
	return b.d
}

// Endpoint is a node's end of its distribution layer, returned by Attach: the
// layer hands it what arrives from other nodes and tells it of lost
// connections.
type Endpoint struct {
	n *Node
}

// Attach installs d as the node's distribution layer, replacing any other
// (but not those AttachFor installed), so that everything addressed to other
// nodes goes through d.Forward. The layer calls the returned Endpoint for
// what arrives.
func (n *Node) Attach(d Distribution) *Endpoint {
	e := &Endpoint{n: n}
	n.updateDist(func(b *distBox) { b.d, b.def = d, e })
	return e
}

// AttachFor installs d beside the layer Attach installed, for the nodes
// match accepts (the first layer whose match does, in the order they were
// attached): a node can speak gotp's distribution to some nodes and another
// (Erlang's) to others. match must be fast and safe for concurrent use.
func (n *Node) AttachFor(match func(node string) bool, d Distribution) *Endpoint {
	e := &Endpoint{n: n}
	n.updateDist(func(b *distBox) { b.routes = append(b.routes, distRoute{match: match, d: d, ep: e}) })
	return e
}

// updateDist replaces the node's distBox with a changed copy.
func (n *Node) updateDist(change func(b *distBox)) {
	n.distMu.Lock()
	defer n.distMu.Unlock()
	var b distBox
	if old := n.dist.Load(); old != nil {
		b = *old
		b.routes = slices.Clone(old.routes)
	}
	change(&b)
	if b.d == nil && len(b.routes) == 0 {
		n.dist.Store(nil)
		return
	}
	n.dist.Store(&b)
}

// Detach removes the layer, if it is still the node's: from then on anything
// addressed to the nodes it carried goes through another layer, if one
// carries them, or fails with ErrNoConnection.
func (e *Endpoint) Detach() {
	e.n.updateDist(func(b *distBox) {
		if b.def == e {
			b.d, b.def = nil, nil
		}
		b.routes = slices.DeleteFunc(b.routes, func(r distRoute) bool { return r.ep == e })
	})
}

// Node returns the node this endpoint belongs to.
func (e *Endpoint) Node() *Node { return e.n }

// forwardFrom forwards an envelope that the code of sender (if not nil) sends:
// nothing goes once the sender is dead, and its reaping waits for what is in
// flight.
func (n *Node) forwardFrom(sender *Process, env Envelope) error {
	if sender == nil {
		return n.forward(env)
	}
	if !sender.enter() {
		return ErrDead
	}
	err := n.forward(env)
	sender.leave()
	return err
}

func (n *Node) forward(env Envelope) error {
	if node := env.DestNode(); node == "" || node == n.name {
		// A destination of no node, or of this one, would come straight back.
		return ErrMalformed
	}
	box := n.dist.Load()
	if box == nil {
		return ErrNoConnection
	}
	d := box.layerFor(env.DestNode())
	if d == nil {
		return ErrNoConnection
	}
	return d.Forward(env)
}

func envelopeOf(to PID, toName Name, s *signal) Envelope {
	env := Envelope{To: to, ToName: toName, From: s.from, Ref: s.ref, Reason: s.reason, Alias: s.alias}
	switch s.kind {
	case sigLink:
		env.Kind = EnvLink
	case sigUnlink:
		env.Kind = EnvUnlink
	case sigLinkExit:
		env.Kind = EnvLinkExit
	case sigExit:
		env.Kind = EnvExit
	case sigMonitor:
		env.Kind = EnvMonitor
	case sigDemonitor:
		env.Kind = EnvDemonitor
	case sigDown:
		env.Kind = EnvDown
	case sigCall:
		env.Kind, env.Message, env.Alias = EnvCall, s.msg, false
	case sigStopProc:
		env.Kind, env.Alias = EnvStop, false
	case sigWhereIs:
		env.Kind = EnvWhereIs
	}
	return env
}

// Validate checks that an envelope that arrived from another node is well
// formed for this node: a known kind, a destination on this node, and, for
// what must be answered, a sender and a reference of another node. Deliver
// calls it first; a layer may call it to decide that a peer is broken.
func (e *Endpoint) Validate(env Envelope) error { return e.validate(&env) }

func (e *Endpoint) validate(env *Envelope) error {
	n := e.n
	bad := func(what string) error {
		return fmt.Errorf("actor: envelope of kind %d: %s: %w", env.Kind, what, ErrMalformed)
	}
	if env.Kind < EnvMessage || env.Kind > LastEnvelopeKind {
		return bad("unknown kind")
	}
	if env.Kind == EnvReply || env.Kind == EnvDown && env.Alias {
		if env.Ref.Node != n.name || env.Ref.ID == 0 {
			return bad("reference of another node")
		}
		return nil
	}
	switch {
	case !env.To.IsZero():
		if env.To.Node != n.name {
			return bad("destination of another node")
		}
	case env.ToName.Name != "":
		if !n.isLocal(env.ToName.Node) {
			return bad("name of another node")
		}
	default:
		return bad("no destination")
	}
	switch env.Kind {
	case EnvLink, EnvMonitor, EnvCall, EnvStop, EnvWhereIs:
		// Answered to From (or, for requests, to Ref's node).
		if env.From.Node == "" || env.From.Node == n.name {
			return bad("sender of no other node")
		}
	}
	switch env.Kind {
	case EnvMonitor, EnvDemonitor, EnvCall, EnvStop, EnvWhereIs:
		// The watcher's or caller's own reference.
		if env.Ref.ID == 0 || env.Ref.Node == "" || env.Ref.Node == n.name {
			return bad("reference of no other node")
		}
	case EnvDown:
		// A DOWN for a monitor this node's process set, under its reference.
		if env.Ref.ID == 0 || env.Ref.Node != n.name {
			return bad("reference of another node")
		}
	}
	return nil
}

// Session is one session of the distribution layer with another node (all of
// its connections, from the handshake until the node is reported down).
// Everything delivered through it after NodeDown for its node is dropped, so
// nothing from a lost session reaches a process after the noconnection its
// loss caused, however much the layer still had buffered. A layer opens one
// per session, before the session can deliver anything, and after the
// NodeDown of the session before it.
type Session struct {
	e    *Endpoint
	node string
	st   *remoteNode
	gen  uint64
}

// remoteNode is what a node keeps about another while sessions with it are
// open: whether the current one went down. It is dropped at the node-down,
// so a node keeps nothing about nodes it no longer talks to.
type remoteNode struct {
	downs   atomic.Uint64
	retired atomic.Bool
}

func (n *Node) remoteNode(node string) *remoteNode {
	if v, ok := n.remotes.Load(node); ok {
		return v.(*remoteNode)
	}
	v, _ := n.remotes.LoadOrStore(node, &remoteNode{})
	return v.(*remoteNode)
}

// Session opens a session with node.
func (e *Endpoint) Session(node string) *Session {
	for {
		st := e.n.remoteNode(node)
		gen := st.downs.Load()
		if !st.retired.Load() {
			return &Session{e: e, node: node, st: st, gen: gen}
		}
		e.n.remotes.CompareAndDelete(node, st)
	}
}

// stale reports whether the session's node went down since it opened.
func (s *Session) stale() bool { return s != nil && s.st.downs.Load() != s.gen }

// Deliver is Endpoint.Deliver for what arrives through this session: once
// its node has gone down it delivers nothing (and returns ErrNoConnection).
func (s *Session) Deliver(env Envelope) error { return s.e.deliver(env, s) }

// Deliver hands an envelope that arrived from another node to its local
// destination. Failures are answered as Erlang would: a link or monitor to a
// missing process gets an exit or DOWN with noproc, a request to one gets its
// DOWN. It returns an error wrapping ErrMalformed for an envelope that is not
// well formed (see Validate; the layer should treat the peer as broken), and
// ErrNoProc for a message to a process that is not there.
func (e *Endpoint) Deliver(env Envelope) error { return e.deliver(env, nil) }

func (e *Endpoint) deliver(env Envelope, sess *Session) error {
	if err := e.validate(&env); err != nil {
		return err
	}
	if sess.stale() {
		return ErrNoConnection
	}
	n := e.n
	switch env.Kind {
	case EnvReply:
		_ = n.deliverCallResult(env.Ref, callResult{value: env.Message, callee: env.From, cleared: env.Cleared}, nil)
		return nil
	case EnvDown:
		if env.Alias {
			_ = n.deliverCallResult(env.Ref, callResult{err: env.Reason, down: true, callee: env.From}, nil)
			return nil
		}
	}
	var p *Process
	byName := env.To.IsZero()
	if byName {
		p = n.whereIs(env.ToName.Name)
	} else {
		p = n.lookup(env.To)
	}
	var s *signal
	switch env.Kind {
	case EnvMessage:
		if p == nil {
			return ErrNoProc
		}
		return p.enqueueFrom(env.Message, nil, sess)
	case EnvWhereIs:
		var pid PID
		if p != nil {
			pid = p.pid
		}
		_ = n.deliverCallResult(env.Ref, callResult{value: pid, cleared: true}, nil)
		return nil
	case EnvLink:
		s = &signal{kind: sigLink}
	case EnvUnlink:
		s = &signal{kind: sigUnlink}
	case EnvLinkExit:
		s = &signal{kind: sigLinkExit}
	case EnvExit:
		s = &signal{kind: sigExit}
	case EnvMonitor:
		s = &signal{kind: sigMonitor}
	case EnvDemonitor:
		s = &signal{kind: sigDemonitor}
	case EnvDown:
		s = &signal{kind: sigDown}
	case EnvCall:
		s = newCallSignal(env.Message)
	case EnvStop:
		s = &signal{kind: sigStopProc, alias: true}
	}
	s.from, s.ref, s.reason, s.session = env.From, env.Ref, env.Reason, sess
	err := ErrNoProc
	if p != nil {
		err = p.accept(s)
	}
	if errors.Is(err, ErrNoConnection) {
		return err // the session went down meanwhile: nothing to answer
	}
	if err != nil {
		if byName && p == nil {
			err = ErrNotRegistered
		}
		n.answerMissing(env, err)
		return nil
	}
	if env.Kind == EnvLink && byName {
		// The linker knows only the name: tell it which process it is
		// linked to.
		_ = n.forward(Envelope{Kind: EnvLink, From: p.pid, To: env.From})
	}
	return nil
}

// answerMissing answers on behalf of a process that is not there (or, for a
// call, whose mailbox is full).
func (n *Node) answerMissing(env Envelope, err error) {
	self := env.To
	switch env.Kind {
	case EnvLink:
		if self.IsZero() {
			// A name nobody holds: an exit signal from the node itself.
			_ = n.forward(Envelope{Kind: EnvExit, From: n.nodePID(), To: env.From, Reason: err})
			return
		}
		_ = n.forward(Envelope{Kind: EnvLinkExit, From: self, To: env.From, Reason: ErrNoProc})
	case EnvMonitor:
		_ = n.forward(Envelope{Kind: EnvDown, From: self, To: env.From, Ref: env.Ref, Reason: err})
	case EnvCall, EnvStop:
		_ = n.deliverCallResult(env.Ref, callResult{err: err, down: true, callee: self}, nil)
	}
}

// NodeDown tells the node that the connection to another node is lost: every
// link and monitor across it fires with ErrNoConnection, node monitors get a
// NodeDownMessage each, and pending requests to it fail with an error that
// matches ErrNoConnection and carries cause (why the connection was lost or
// never made: a refused handshake, a reset) when it is not nil.
func (e *Endpoint) NodeDown(node string, cause error) {
	n := e.n
	if n.isLocal(node) {
		return
	}
	// First: from here on, the lost sessions deliver nothing. A process
	// takes this into account under its own lock, so what a session
	// delivered is either before the node-down in that process's queue or
	// not delivered at all.
	st := n.remoteNode(node)
	st.downs.Add(1)
	st.retired.Store(true)
	n.remotes.CompareAndDelete(node, st)
	reason := ErrNoConnection
	if cause != nil && cause != ErrNoConnection {
		reason = &connectionLost{cause: cause}
	}
	var lost []Ref
	n.aliasMu.Lock()
	for id, w := range n.aliases {
		if w.node == node {
			lost = append(lost, Ref{Node: n.name, Creation: n.creation, ID: id})
		}
	}
	n.aliasMu.Unlock()
	for _, ref := range lost {
		_ = n.deliverCallResult(ref, callResult{err: reason, down: true}, nil)
	}
	// Only the processes tied to the node: a node-down costs what it
	// affects, not a pass over every process.
	for _, p := range n.tiedTo(node) {
		_ = p.accept(&signal{kind: sigNodeDown, node: node})
	}
}

// connectionLost is the error of a request whose node was lost: it matches
// ErrNoConnection and the cause.
type connectionLost struct{ cause error }

func (e *connectionLost) Error() string   { return "noconnection: " + e.cause.Error() }
func (e *connectionLost) Unwrap() []error { return []error{ErrNoConnection, e.cause} }
