package remote

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/halfopen"
	"github.com/gotp-dev/gotp/remote/transport"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Remote is a node's distribution layer: it listens, dials, authenticates
// peers, and carries envelopes between the local node and others. It
// implements actor.Distribution; Start attaches it to the node.
type Remote struct {
	node   *actor.Node
	ep     *actor.Endpoint
	cfg    Config
	log    *slog.Logger
	policy Policy
	filter Filter // the policy's, if it has one
	seed   maphash.Seed

	listeners []transport.Listener
	halfOpen  *halfopen.Set // inbound connections in their handshake
	addrs     []string
	ctx       context.Context // ends when the layer stops
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	peers   map[string]*peer // by node name, while any slot exists
	// downing holds the nodes whose node-down is being delivered (outside
	// mu); a new session with one waits for it. Closed when delivered.
	downing map[string]chan struct{}
	known   map[string]NodeSpec // addresses learned from Connect and handshakes
	// lastTokens holds each node's token of the last session with it that
	// ended, with which a redial proves it knew that session.
	lastTokens map[string][]byte
	// departed orders the nodes whose session ended, by when (a sequence
	// number); past departedLimit of them the oldest are forgotten (their
	// lastTokens and known entries), so a node keeps nothing for good about
	// peers that left.
	departed      map[string]uint64
	departSeq     uint64
	departedLimit int
	subs          map[int]func(Event)
	nodeDownHook  func(node string) // tests: runs after each node-down
	nextSub       int
	events        chan pendingEvent
}

// peer is one remote node with its slots, one per channel and index: one
// session, from its first connection until it is taken down.
type peer struct {
	name string
	// sess delivers what the peer's connections read; after the peer's
	// node-down it delivers nothing.
	sess     *actor.Session
	spec     NodeSpec
	creation uint32
	up       bool
	// token is this node's token for the session, made with the peer;
	// peerToken the peer's, learned from the first connection (handshake.go).
	token, peerToken []byte
	// maxFrame is the largest frame the peer takes, from its handshake (0
	// until then: this node's own limit applies).
	maxFrame atomic.Int64
	// held: destinations this peer, a relay, asked us to hold back traffic
	// for (relay.go).
	flowMu sync.Mutex
	held   holds
	slots  map[string][]*conn
	extra  []*conn // inbound connections whose slot was already taken
}

var _ actor.Distribution = (*Remote)(nil)

// Start brings up the distribution layer for node and installs it, so that
// sends, calls, links and monitors to PIDs of other nodes go through it.
func Start(node *actor.Node, cfg Config) (*Remote, error) {
	cfg = cfg.withDefaults(node.Logger())
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if tcp, ok := cfg.Transport.(*transport.TCP); ok {
		own := *tcp
		if own.Logger == nil {
			// Refused TLS handshakes are logged where the node's own log
			// is, not discarded.
			own.Logger = cfg.Logger.With("node", node.Name())
		}
		// One frame limit: the smaller of the transport's and the config's
		// rules both reading and writing, and is what the handshake
		// announces.
		if own.MaxFrameSize > 0 && own.MaxFrameSize < cfg.MaxFrameSize {
			cfg.MaxFrameSize = own.MaxFrameSize
		}
		own.MaxFrameSize = cfg.MaxFrameSize
		cfg.Transport = &own
	}
	r := &Remote{
		node:          node,
		cfg:           cfg,
		log:           cfg.Logger.With("node", node.Name()),
		policy:        cfg.Policy,
		seed:          maphash.MakeSeed(),
		peers:         make(map[string]*peer),
		downing:       make(map[string]chan struct{}),
		lastTokens:    make(map[string][]byte),
		known:         make(map[string]NodeSpec),
		departed:      make(map[string]uint64),
		departedLimit: defaultDepartedLimit,
		subs:          make(map[int]func(Event)),
		events:        make(chan pendingEvent, 256),
		halfOpen:      halfopen.New(cfg.MaxHandshakes),
	}
	if r.policy == nil {
		r.policy = directPolicy{}
	}
	r.filter, _ = r.policy.(Filter)
	if cfg.Cookie == defaultCookie {
		r.log.Warn("using the default cookie; set Config.Cookie")
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for _, addr := range cfg.Listen {
		l, err := cfg.Transport.Listen(addr)
		if err != nil {
			r.closeListeners()
			r.cancel()
			return nil, fmt.Errorf("remote: listen %s: %w", addr, err)
		}
		r.listeners = append(r.listeners, l)
		r.addrs = append(r.addrs, l.Addr())
	}
	if len(cfg.Advertise) > 0 {
		r.addrs = slices.Clone(cfg.Advertise)
	}
	// Attached before any connection can deliver to it.
	r.ep = node.Attach(r)
	for _, l := range r.listeners {
		r.wg.Add(1)
		go r.acceptLoop(l)
	}
	r.wg.Add(1)
	go r.eventLoop()
	return r, nil
}

// Node returns the local node.
func (r *Remote) Node() *actor.Node { return r.node }

// Addrs returns the addresses peers can dial to reach this node.
func (r *Remote) Addrs() []string { return slices.Clone(r.addrs) }

// Spec returns this node's spec.
func (r *Remote) Spec() NodeSpec {
	return NodeSpec{Name: r.node.Name(), Addrs: r.Addrs(), Tags: r.cfg.Tags}
}

// Stop closes every connection and listener. Links and monitors across them
// fire with noconnection. The node keeps running, local only.
func (r *Remote) Stop() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	var conns []*conn
	for _, p := range r.peers {
		conns = append(conns, p.all()...)
	}
	r.mu.Unlock()
	r.ep.Detach()
	r.closeListeners()
	for _, c := range conns {
		c.fail(ErrStopped)
	}
	r.cancel()
	r.wg.Wait()
}

func (r *Remote) closeListeners() {
	for _, l := range r.listeners {
		_ = l.Close()
	}
}

func (p *peer) all() []*conn {
	var out []*conn
	for _, slots := range p.slots {
		for _, c := range slots {
			if c != nil {
				out = append(out, c)
			}
		}
	}
	return append(out, p.extra...)
}

// defaultDepartedLimit is how many departed peers a node remembers.
const defaultDepartedLimit = 4096

// forgetDepartedLocked forgets the older half of the departed peers once
// there are more than departedLimit of them. A peer forgotten and back later
// is a new peer, its session count starting again. r.mu is held.
func (r *Remote) forgetDepartedLocked() {
	if len(r.departed) <= r.departedLimit {
		return
	}
	type gone struct {
		name string
		seq  uint64
	}
	var list []gone
	for name, seq := range r.departed {
		if r.peers[name] != nil {
			delete(r.departed, name) // back meanwhile
			continue
		}
		list = append(list, gone{name, seq})
	}
	keep := r.departedLimit / 2
	if len(list) <= keep {
		return
	}
	slices.SortFunc(list, func(a, b gone) int { return cmp.Compare(a.seq, b.seq) })
	for _, g := range list[:len(list)-keep] {
		delete(r.departed, g.name)
		delete(r.lastTokens, g.name)
		delete(r.known, g.name)
	}
}

// frameLimit is the largest frame to send the peer: the smaller of its limit
// and this node's own.
func (p *peer) frameLimit(own int) int {
	if theirs := int(p.maxFrame.Load()); theirs > 0 && theirs < own {
		return theirs
	}
	return own
}

// newPeerLocked makes the current peer for node, with a session opened after
// the node-down of the one before (both happen under r.mu). r.mu is held.
func (r *Remote) newPeerLocked(node string) *peer {
	p := &peer{name: node, slots: make(map[string][]*conn), sess: r.ep.Session(node), token: randomBytes(tokenSize)}
	r.peers[node] = p
	return p
}

// sessionTokens returns this node's token for c's session and the peer's, if
// one is known: of the live session, or else of the last one that ended.
func (r *Remote) sessionTokens(c *conn) (own, theirs []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := c.peer
	theirs = p.peerToken
	if theirs == nil {
		theirs = r.lastTokens[p.name]
	}
	return p.token, theirs
}

// Learn records addresses for a node without connecting to it.
func (r *Remote) Learn(spec NodeSpec) {
	if spec.Name == "" || spec.Name == r.node.Name() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.known[spec.Name]
	if len(spec.Addrs) == 0 {
		spec.Addrs = old.Addrs
	}
	if spec.Tags == nil {
		spec.Tags = old.Tags
	}
	r.known[spec.Name] = spec
}

// Connect opens every channel's connections to the node described by spec and
// returns once all of them are up, or with the first failure, or when ctx ends.
func (r *Remote) Connect(ctx context.Context, spec NodeSpec) error {
	r.Learn(spec)
	var waits []*conn
	for _, ch := range r.cfg.Channels {
		for i := 0; i < ch.Parallelism; i++ {
			c, err := r.slot(spec.Name, ch, i)
			if err != nil {
				return err
			}
			waits = append(waits, c)
		}
	}
	for _, c := range waits {
		if err := c.waitUp(ctx); err != nil {
			if ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("remote: connect %s: %w", spec.Name, err)
		}
	}
	return nil
}

// Disconnect closes every connection to node; links and monitors across it
// fire with noconnection.
func (r *Remote) Disconnect(node string) {
	r.mu.Lock()
	p := r.peers[node]
	var conns []*conn
	if p != nil {
		conns = p.all()
	}
	r.mu.Unlock()
	for _, c := range conns {
		c.fail(errors.New("disconnected"))
	}
}

// Peers returns the nodes this node has a working connection to.
func (r *Remote) Peers() []NodeSpec {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []NodeSpec
	for _, p := range r.peers {
		if p.up {
			out = append(out, p.spec)
		}
	}
	slices.SortFunc(out, func(a, b NodeSpec) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// IsConnected reports whether a connection to node is up.
func (r *Remote) IsConnected(node string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[node]
	return p != nil && p.up
}

// ConnectionCount returns how many connections of a channel to node are up.
func (r *Remote) ConnectionCount(node, channel string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[node]
	if p == nil {
		return 0
	}
	n := 0
	for i, c := range p.slots[channel] {
		// A slot may be served by a connection of another index or channel
		// (see conn.fail); count each connection of this channel once.
		if c != nil && c.channel.Name == channel && c.index == i && c.isReady() {
			n++
		}
	}
	return n
}

// SendOptions refine one send.
type SendOptions struct {
	// Channel to use; default DefaultChannel.
	Channel string
	// PartitionKey picks the connection within the channel instead of the
	// sender; sends with the same key stay in order.
	PartitionKey string
	// Block waits for room in a full send queue until ctx ends, instead of
	// failing with ErrSendQueueFull.
	Block bool
	// relaying: a relay's first try; a full queue is an error even for a
	// signal, which the relay then queues (relay.go).
	relaying bool
}

// Send delivers msg from the process from (zero for none) to a process (a PID
// or a name) on another node with options. For the local node it is the
// node's Send.
func (r *Remote) Send(ctx context.Context, from actor.PID, to actor.Dest, msg any, opts SendOptions) error {
	env := actor.Envelope{Kind: actor.EnvMessage, From: from, Message: msg}
	switch to := to.(type) {
	case actor.PID:
		env.To = to
	case actor.Name:
		env.ToName = to
	}
	if node := env.DestNode(); node == "" || node == r.node.Name() {
		return r.node.Send(to, msg)
	}
	return r.forward(ctx, env, opts)
}

// Forward implements actor.Distribution: the node hands it everything addressed to
// other nodes.
func (r *Remote) Forward(env actor.Envelope) error {
	ctx := r.ctx
	block := r.cfg.WhenFull == FullQueueBlock
	if block {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.BlockTimeout)
		defer cancel()
	}
	return r.forward(ctx, env, SendOptions{Block: block})
}

func (r *Remote) forward(ctx context.Context, env actor.Envelope, opts SendOptions) error {
	dest := env.DestNode()
	if dest == "" {
		return fmt.Errorf("remote: envelope for no node: %w", actor.ErrMalformed)
	}
	if dest == r.node.Name() {
		return r.ep.Deliver(env)
	}
	if r.filter != nil && (env.Kind == actor.EnvMessage || env.Kind == actor.EnvCall) {
		if err := r.filter.Admit(env, dest); err != nil {
			return err
		}
	}
	via, err := r.policy.Route(dest)
	if err != nil {
		return err
	}
	name := opts.Channel
	if name == "" {
		name = DefaultChannel
	}
	ch, ok := r.cfg.channel(name)
	if !ok {
		return fmt.Errorf("remote: %q: %w", name, ErrUnknownChannel)
	}
	buf := getFrameBuf()
	frame, err := wire.AppendEnvelope((*buf)[:0], env)
	if err != nil {
		return fmt.Errorf("remote: send to %s: %w", dest, err)
	}
	c, err := r.slot(via, ch, r.pick(env, ch, opts.PartitionKey))
	if err != nil {
		return err
	}
	signal := isSignal(env.Kind)
	if via != dest && !signal {
		if err := c.peer.holdBack(ctx, c, dest, opts.Block); err != nil {
			return err
		}
	}
	limit := c.peer.frameLimit(r.cfg.MaxFrameSize)
	if len(frame) > limit && isSignal(env.Kind) && env.Reason != nil {
		// A signal is never dropped for its size: an exit reason too long
		// for a frame travels cut short, its sentinel kept.
		env.Reason = &truncatedReason{text: truncateText(env.Reason.Error(), 1024), err: env.Reason}
		if frame, err = wire.AppendEnvelope(frame[:0], env); err != nil {
			return fmt.Errorf("remote: send to %s: %w", dest, err)
		}
	}
	if len(frame) > limit {
		// The sender's error; the connection carries on.
		return fmt.Errorf("remote: message of %d bytes to %s (limit %d): %w", len(frame), dest, limit, transport.ErrFrameTooLarge)
	}
	var key streamKey
	if ch.Monotonic {
		key = streamKey{from: env.From.String(), to: env.To.String() + env.ToName.String()}
	}
	if err := c.enqueueQueued(ctx, queued{frame: frame, key: key, buf: buf}, opts.Block, signal); err != nil {
		if errors.Is(err, errSignalQueueFull) && !opts.relaying {
			// A signal is never dropped: the connection is given up, and
			// noconnection fires for everything across it on both sides.
			r.log.Warn("send queue full for a signal; closing connection", "peer", via)
			c.fail(err)
			return fmt.Errorf("%w: %s: %w", actor.ErrNoConnection, via, err)
		}
		if errors.Is(err, ErrSendQueueFull) {
			return err
		}
		return fmt.Errorf("%w: %s: %w", actor.ErrNoConnection, via, err)
	}
	return nil
}

// truncatedReason is an exit reason whose text was cut to fit a frame; it
// still matches what the full reason matched.
type truncatedReason struct {
	text string
	err  error
}

func (e *truncatedReason) Error() string { return e.text }
func (e *truncatedReason) Unwrap() error { return e.err }

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d bytes cut)", len(s)-cut)
}

// isSignal reports whether an envelope of kind is a signal that no sender
// hears the failure of (a DOWN, an exit, a link, a reply): it must arrive or
// its connection be declared lost. Messages and requests fail at their sender.
func isSignal(kind actor.EnvelopeKind) bool {
	switch kind {
	case actor.EnvMessage, actor.EnvCall, actor.EnvStop, actor.EnvWhereIs:
		return false
	}
	return true
}

// pick chooses the connection index: by partition key when given, else by
// sender, so that everything one process sends over a channel keeps its
// order.
func (r *Remote) pick(env actor.Envelope, ch Channel, partitionKey string) int {
	if ch.Parallelism <= 1 {
		return 0
	}
	var h maphash.Hash
	h.SetSeed(r.seed)
	switch {
	case partitionKey != "":
		h.WriteString(partitionKey)
	case !env.From.IsZero():
		h.WriteString(env.From.Node)
		maphash.WriteComparable(&h, env.From.ID)
	default:
		h.WriteString(env.To.String())
	}
	return int(h.Sum64() % uint64(ch.Parallelism))
}

// slot returns the connection for (node, channel, index), creating it and
// starting a dial if there is none.
func (r *Remote) slot(node string, ch Channel, index int) (*conn, error) {
	if node == r.node.Name() {
		return nil, fmt.Errorf("remote: connection to self")
	}
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", actor.ErrNoConnection, ErrStopped)
	}
	p := r.peers[node]
	if p == nil {
		if done := r.downing[node]; done != nil {
			// The last session's node-down is still being delivered: a
			// new one begins after it.
			r.mu.Unlock()
			<-done
			return r.slot(node, ch, index)
		}
		p = r.newPeerLocked(node)
	}
	slots := p.slots[ch.Name]
	if slots == nil {
		slots = make([]*conn, ch.Parallelism)
		p.slots[ch.Name] = slots
	}
	if c := slots[index]; c != nil {
		r.mu.Unlock()
		return c, nil
	}
	c := newConn(r, p, ch, index)
	slots[index] = c
	spec, known := r.known[node]
	// Counted under r.mu, which Stop takes to set stopped before it waits:
	// a dial is either counted before that wait or never started.
	r.wg.Add(1)
	r.mu.Unlock()

	go r.dial(c, spec, known)
	return c, nil
}

func (r *Remote) dial(c *conn, spec NodeSpec, known bool) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.HandshakeTimeout)
	defer cancel()
	addrs := spec.Addrs
	if !known || len(addrs) == 0 {
		if r.cfg.Resolve == nil {
			c.fail(fmt.Errorf("%w: %s", ErrUnknownNode, c.peer.name))
			return
		}
		var err error
		addrs, err = r.cfg.Resolve(ctx, c.peer.name)
		if err != nil || len(addrs) == 0 {
			c.fail(fmt.Errorf("%w: %s: %v", ErrUnknownNode, c.peer.name, err))
			return
		}
	}
	var lastErr error
	for _, addr := range addrs {
		tc, err := r.cfg.Transport.Dial(ctx, addr)
		if err != nil {
			r.log.Warn("dial failed", "peer", c.peer.name, "addr", addr, "err", err.Error())
			lastErr = err
			continue
		}
		hello, err := r.dialHandshake(ctx, tc, c.peer.name, c.channel.Name, c.index, func() ([]byte, []byte) { return r.sessionTokens(c) })
		if err != nil {
			_ = tc.Close()
			r.log.Warn("handshake failed", "peer", c.peer.name, "addr", addr, "err", err.Error())
			lastErr = err
			var ref *Refusal
			if errors.As(err, &ref) || errors.Is(err, ErrBadCookie) || errors.Is(err, ErrVersion) || errors.Is(err, ErrSessionProof) {
				break
			}
			continue
		}
		if !r.established(c, hello) {
			_ = tc.Close()
			return
		}
		c.start(tc)
		return
	}
	c.fail(fmt.Errorf("dial %s: %w", c.peer.name, lastErr))
}

// established records a completed handshake on c. It reports false if the
// layer stopped or the connection failed meanwhile.
func (r *Remote) established(c *conn, h peerHello) bool {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		c.fail(ErrStopped)
		return false
	}
	p := c.peer
	if r.peers[p.name] != p {
		r.mu.Unlock()
		c.fail(errors.New("peer went down during handshake"))
		return false
	}
	if p.creation != 0 && p.creation != h.creation {
		// Another life of the node answered: the old one is gone.
		r.mu.Unlock()
		r.peerDown(p, errPeerRestarted)
		c.fail(errPeerRestarted)
		return false
	}
	if !c.inbound {
		// An acceptor admits by session (admit); a dialer learns the
		// peer's token here, or finds the peer answering for another
		// session: it ended this one on its side, and so must we.
		if p.peerToken != nil && !bytes.Equal(p.peerToken, h.token) {
			r.mu.Unlock()
			r.peerDown(p, errPeerReconnected)
			c.fail(errPeerReconnected)
			return false
		}
		p.peerToken = h.token
	}
	c.est = true
	c.mu.Lock()
	c.rtt = h.rtt
	c.mu.Unlock()
	p.creation = h.creation
	p.spec = h.spec
	if h.maxFrame > 0 {
		p.maxFrame.Store(int64(min(h.maxFrame, r.cfg.MaxFrameSize)))
	}
	r.known[p.name] = h.spec
	wasUp := p.up
	p.up = true
	r.mu.Unlock()
	if !wasUp {
		r.emit(Event{Kind: PeerUp, Peer: h.spec})
	}
	return true
}

func (r *Remote) acceptLoop(l transport.Listener) {
	defer r.wg.Done()
	for {
		tc, err := l.Accept(r.ctx)
		if err != nil {
			if r.ctx.Err() != nil || errors.Is(err, transport.ErrClosed) {
				return
			}
			r.log.Warn("accept failed", "err", err.Error())
			continue
		}
		// A connection in its handshake holds a slot of the half-open set
		// until it is done or its deadline passes; when every slot is taken
		// the oldest is closed, so idle sockets delay no one.
		id := r.halfOpen.Add(tc)
		r.wg.Add(1)
		go r.accept(tc, id)
	}
}

func (r *Remote) accept(tc transport.Conn, id uint64) {
	defer r.wg.Done()
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.HandshakeTimeout)
	defer cancel()
	var c *conn
	h, err := r.acceptHandshake(ctx, tc, func(h peerHello) (token []byte, err error) {
		c, token, err = r.admit(h)
		return token, err
	})
	r.halfOpen.Done(id)
	if err != nil {
		_ = tc.Close()
		if c != nil {
			c.fail(err)
		}
		r.log.Warn("refused inbound connection", "peer", h.spec.Name, "addr", tc.RemoteAddr(), "err", err.Error())
		return
	}
	if !r.established(c, h) {
		_ = tc.Close()
		return
	}
	c.start(tc)
}

// admit decides, for an authenticated inbound connection, which session it
// belongs to, and gives it its place there before the dialer hears it is up:
// from then on what this node sends the peer on that slot waits in the new
// connection's queue. A session it replaces is ended first. It returns the
// connection and this node's token for the session.
func (r *Remote) admit(h peerHello) (*conn, []byte, error) {
	ch, _ := r.cfg.channel(h.channel)
	r.mu.Lock()
	defer r.mu.Unlock()
	var p *peer
	for {
		if r.stopped {
			return nil, nil, ErrStopped
		}
		p = r.peers[h.spec.Name]
		if p != nil {
			break
		}
		done := r.downing[h.spec.Name]
		if done == nil {
			break
		}
		// The last session's node-down is still being delivered.
		r.mu.Unlock()
		<-done
		r.mu.Lock()
	}
	var replaced error
	switch {
	case p == nil:
	case p.creation != 0 && p.creation != h.creation:
		// Another life of the node: the old one is gone.
		replaced = errPeerRestarted
	case p.peerToken == nil:
		// Nothing is up with the node yet (at most a dial of our own
		// under way): this connection may begin the session.
	case bytes.Equal(h.token, p.peerToken):
		// Another connection of the live session: a further slot, or a
		// crossed dial.
	case h.proves(p.token):
		// The peer saw the session end and began another; it proved it
		// knew this one, which ends here too before the new one is taken.
		replaced = errPeerReconnected
	default:
		// The node's name and creation, but not its session: a cookie
		// holder cannot join, or by hanging up end, another's session.
		return nil, nil, fmt.Errorf("%w: %s", ErrSessionProof, h.spec.Name)
	}
	if replaced != nil {
		old := r.takePeerLocked(p, replaced)
		r.mu.Unlock()
		r.finishPeerDown(old, replaced)
		r.mu.Lock()
		if r.stopped {
			return nil, nil, ErrStopped
		}
		if p = r.peers[h.spec.Name]; p != nil && !bytes.Equal(h.token, p.peerToken) {
			// Another connection began a session meanwhile, and this
			// one is not of it.
			return nil, nil, fmt.Errorf("%w: %s", ErrSessionProof, h.spec.Name)
		}
	}
	if p == nil {
		p = r.newPeerLocked(h.spec.Name)
	}
	if p.peerToken == nil {
		p.peerToken, p.creation = h.token, h.creation
	}
	c := newConn(r, p, ch, h.index)
	c.inbound = true
	slots := p.slots[ch.Name]
	if slots == nil {
		slots = make([]*conn, ch.Parallelism)
		p.slots[ch.Name] = slots
	}
	switch cur := slots[h.index]; {
	case cur == nil:
		slots[h.index] = c
	case !cur.inbound && !cur.est && cur.handOver(c):
		// Our own dial for the slot is not through: the peer's connection
		// takes its place and what waits in its queue, so nothing depends
		// on the dial any more. It goes on as a spare.
		slots[h.index] = c
		p.extra = append(p.extra, cur)
	default:
		// Both sides dialed at once: each keeps sending on the connection it
		// chose first; this one only carries the peer's traffic in.
		p.extra = append(p.extra, c)
	}
	return c, p.token, nil
}

// downPeer is a peer just taken out of the table, to be finished off.
type downPeer struct {
	p      *peer
	conns  []*conn
	wasUp  bool
	reason error
	done   chan struct{} // r.downing's entry, closed once the node knows
}

// takePeerLocked removes p if it is still the current peer for its name.
// The caller must then finishPeerDown, outside r.mu, which tells the node, so
// that links, monitors and pending calls across it fire with noconnection;
// until it has, no new session with the name begins. A node is reachable
// over all its connections or it is down, as in Erlang. r.mu is held.
func (r *Remote) takePeerLocked(p *peer, reason error) *downPeer {
	if r.peers[p.name] != p {
		return nil
	}
	delete(r.peers, p.name)
	if p.peerToken != nil {
		r.lastTokens[p.name] = p.peerToken
	}
	r.departSeq++
	r.departed[p.name] = r.departSeq
	r.forgetDepartedLocked()
	d := &downPeer{p: p, conns: p.all(), wasUp: p.up, reason: reason, done: make(chan struct{})}
	p.up = false
	r.downing[p.name] = d.done
	return d
}

var (
	errPeerRestarted   = errors.New("peer restarted")
	errPeerReconnected = errors.New("peer reconnected")
)

// finishPeerDown tells the node that a removed peer is down, without the
// table lock (the node-down visits every process tied to the peer), then
// closes the peer's other connections and reports it.
func (r *Remote) finishPeerDown(d *downPeer, reason error) {
	if d == nil {
		return
	}
	r.ep.NodeDown(d.p.name, reason)
	if r.nodeDownHook != nil {
		r.nodeDownHook(d.p.name)
	}
	// The event goes out before a new session may begin, so that no
	// subscriber hears of the next session's up before this one's down.
	if d.wasUp {
		r.emit(Event{Kind: PeerDown, Peer: d.p.spec, Reason: reason})
	}
	r.mu.Lock()
	if r.downing[d.p.name] == d.done {
		delete(r.downing, d.p.name)
	}
	r.mu.Unlock()
	close(d.done)
	for _, c := range d.conns {
		c.fail(reason)
	}
	r.log.Info("peer down", "peer", d.p.name, "reason", reason.Error())
}

// DeclareDown tells the layer that node is down, as the layer above learned
// it (the peer service's failure detector, for a node reached only through a
// relay, which has no connection of its own to lose). Connections to node,
// if any, are closed; every link, monitor and pending call toward it fires
// with noconnection (matching cause too), and the next send to it begins a
// new session.
func (r *Remote) DeclareDown(node string, cause error) {
	if node == "" || node == r.node.Name() {
		return
	}
	if cause == nil {
		cause = actor.ErrNoConnection
	}
	r.mu.Lock()
	var d *downPeer
	if p := r.peers[node]; p != nil {
		d = r.takePeerLocked(p, cause)
	} else if r.downing[node] == nil {
		d = &downPeer{p: &peer{name: node}, reason: cause, done: make(chan struct{})}
		r.downing[node] = d.done
	}
	r.mu.Unlock()
	r.finishPeerDown(d, cause)
}

// peerDown takes p down, if it is still current.
func (r *Remote) peerDown(p *peer, reason error) {
	r.mu.Lock()
	d := r.takePeerLocked(p, reason)
	r.mu.Unlock()
	r.finishPeerDown(d, reason)
}

// inbound handles an envelope that arrived on c as size bytes: delivered
// here, or relayed on when this node is a relay for it. It returns an error
// only for a malformed envelope, which breaks the connection it came on.
func (r *Remote) inbound(c *conn, env actor.Envelope, size int) error {
	dest := env.DestNode()
	if dest == "" {
		return fmt.Errorf("remote: envelope for no node: %w", actor.ErrMalformed)
	}
	if dest != r.node.Name() {
		c.relay(env, size)
		return nil
	}
	err := c.peer.sess.Deliver(env)
	if errors.Is(err, actor.ErrMalformed) {
		return err
	}
	if err != nil && !errors.Is(err, actor.ErrNoProc) {
		r.log.Debug("deliver failed", "err", err.Error())
	}
	return nil
}

// answerUndeliverable tells a caller that its call could not be relayed.
func (r *Remote) answerUndeliverable(env actor.Envelope, err error) {
	if env.Kind == actor.EnvCall {
		_ = r.forward(r.ctx, actor.Envelope{Kind: actor.EnvDown, Alias: true, Ref: env.Ref, Reason: actor.ErrNoConnection}, SendOptions{})
	}
}

// undecodable handles an envelope whose header arrived intact but whose
// message did not decode here: a call gets the error as its reply, anything
// else is logged and dropped. The connection carries on.
func (r *Remote) undecodable(sess *actor.Session, env actor.Envelope, body *wire.BodyError) {
	r.log.Warn("dropping message that does not decode", "from", env.From.String(), "err", body.Error())
	if env.Kind == actor.EnvReply && env.Ref.Node == r.node.Name() {
		// A reply this node cannot read: its caller gets why, at once.
		_ = sess.Deliver(actor.Envelope{Kind: actor.EnvReply, From: env.From, Ref: env.Ref, Message: body})
		return
	}
	if env.Kind == actor.EnvCall {
		reply := actor.Envelope{Kind: actor.EnvReply, Ref: env.Ref, Message: body}
		if env.Ref.Node == r.node.Name() {
			_ = r.ep.Deliver(reply)
			return
		}
		_ = r.forward(r.ctx, reply, SendOptions{})
	}
}
