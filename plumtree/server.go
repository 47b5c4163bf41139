package plumtree

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/supervisor"
)

// Server is a running broadcast server: the handle on the server process.
// Its methods are safe for concurrent use.
type Server struct {
	node     *actor.Node
	svc      peerservice.Manager
	cfg      Config
	handlers map[string]Handler
	log      *slog.Logger
	sup      actor.PID // zero when run in the caller's tree
}

// Start starts the broadcast server of node under a supervisor of its own,
// registered as cfg.Name. svc is the node's peer service: it gives the
// initial membership (unless cfg.Members does) and its membership events
// update the server (unless cfg.NoMembershipUpdates).
func Start(node *actor.Node, svc peerservice.Manager, cfg Config) (*Server, error) {
	s, err := newServer(node, svc, cfg)
	if err != nil {
		return nil, err
	}
	sup, err := supervisor.Start(node, supervisor.Spec{Children: []supervisor.ChildSpec{s.workerSpec("server")}})
	if err != nil {
		return nil, fmt.Errorf("plumtree: start server: %w", err)
	}
	s.sup = sup
	return s, nil
}

// ChildSpec returns the broadcast server as a worker of the caller's own
// supervision tree, and the handle on it, which works while the child runs.
func ChildSpec(id string, node *actor.Node, svc peerservice.Manager, cfg Config) (supervisor.ChildSpec, *Server, error) {
	s, err := newServer(node, svc, cfg)
	if err != nil {
		return supervisor.ChildSpec{}, nil, err
	}
	return s.workerSpec(id), s, nil
}

func newServer(node *actor.Node, svc peerservice.Manager, cfg Config) (*Server, error) {
	if node == nil {
		return nil, fmt.Errorf("%w: no node", ErrInvalidConfig)
	}
	if svc == nil && (cfg.Members == nil || !cfg.NoMembershipUpdates) {
		return nil, fmt.Errorf("%w: no peer service (give Members and NoMembershipUpdates to run without one)", ErrInvalidConfig)
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{node: node, svc: svc, cfg: cfg, handlers: map[string]Handler{}, log: cfg.Logger.With("node", node.Name())}
	for _, h := range cfg.Handlers {
		s.handlers[h.Name()] = h
	}
	return s, nil
}

func (s *Server) workerSpec(id string) supervisor.ChildSpec {
	return supervisor.Worker(id, func() actor.GenServer { return &server{s: s} }, actor.WithName(s.cfg.Name))
}

// Stop stops the server and its supervisor (a server from ChildSpec stops
// with the caller's tree instead).
func (s *Server) Stop(ctx context.Context) error {
	if s.sup.IsZero() {
		return nil
	}
	err := supervisor.Stop(ctx, s.node, s.sup)
	if errors.Is(err, actor.ErrNoProc) {
		return nil
	}
	return err
}

// Name is the destination of this node's server.
func (s *Server) Name() actor.Name { return actor.Name{Node: s.node.Name(), Name: s.cfg.Name} }

// Broadcast broadcasts msg from this node on behalf of the handler named
// handler: the handler's BroadcastData turns msg into an id and a payload
// (on the caller's goroutine, as the seed does), and the server sends it
// along this node's tree. It returns once the server has it queued; every
// member gets it at least once.
func (s *Server) Broadcast(msg any, handler string) error {
	h, ok := s.handlers[handler]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownHandler, handler)
	}
	var id, payload any
	err := guard(handler, "BroadcastData", func() error {
		var err error
		id, payload, err = h.BroadcastData(msg)
		return err
	})
	if err != nil {
		if !errors.Is(err, ErrHandler) {
			err = fmt.Errorf("%w: %s.BroadcastData: %w", ErrHandler, handler, err)
		}
		return err
	}
	if !ValidID(id) {
		return fmt.Errorf("%w: %T from %s", ErrInvalidID, id, handler)
	}
	return s.node.Send(s.Name(), broadcastReq{handler: handler, id: id, payload: payload})
}

// Update tells the server the membership (the seed's update/1). It is
// called on every membership event of the peer service unless
// Config.NoMembershipUpdates.
func (s *Server) Update(members []string) error {
	return s.node.Send(s.Name(), updateReq{members: slices.Clone(members)})
}

// BroadcastMembers returns the membership the server knows, sorted.
func (s *Server) BroadcastMembers(ctx context.Context) ([]string, error) {
	v, err := s.call(ctx, s.Name(), membersReq{})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// GetPeers returns this node's eager and lazy peers in the tree rooted at
// root.
func (s *Server) GetPeers(ctx context.Context, root string) (Peers, error) {
	return s.DebugGetPeers(ctx, s.node.Name(), root)
}

// DebugGetPeers returns node's eager and lazy peers in the tree rooted at
// root, asking node's server.
func (s *Server) DebugGetPeers(ctx context.Context, node, root string) (Peers, error) {
	v, err := s.call(ctx, actor.Name{Node: node, Name: s.cfg.Name}, getPeersReq{Root: root})
	if err != nil {
		return Peers{}, err
	}
	p, ok := v.(Peers)
	if !ok {
		return Peers{}, fmt.Errorf("plumtree: unexpected reply %T from %s", v, node)
	}
	return p, nil
}

// TreeEntry is one node's part of a tree, or Down if it did not answer.
type TreeEntry struct {
	Node  string
	Peers Peers
	Down  bool
}

// DebugGetTree asks each of nodes for its peers in the tree rooted at root;
// a node that does not answer within ctx is Down.
func (s *Server) DebugGetTree(ctx context.Context, root string, nodes []string) []TreeEntry {
	out := make([]TreeEntry, len(nodes))
	for i, n := range nodes {
		p, err := s.DebugGetPeers(ctx, n, root)
		out[i] = TreeEntry{Node: n, Peers: p, Down: err != nil}
		if err != nil {
			s.log.Info("plumtree: tree peer down", "peer", n, "root", root, "err", err)
		}
	}
	return out
}

// Exchanges returns the exchanges this node started that are running.
func (s *Server) Exchanges(ctx context.Context) ([]ExchangeInfo, error) {
	return s.ExchangesOn(ctx, s.node.Name())
}

// ExchangesOn returns the exchanges running that node started.
func (s *Server) ExchangesOn(ctx context.Context, node string) ([]ExchangeInfo, error) {
	v, err := s.call(ctx, actor.Name{Node: node, Name: s.cfg.Name}, exchangesReq{All: true})
	if err != nil {
		return nil, err
	}
	r, ok := v.(exchangesReply)
	if !ok {
		return nil, fmt.Errorf("plumtree: unexpected reply %T from %s", v, node)
	}
	return r.List, nil
}

// ExchangeFilter picks exchanges to cancel: those matching every field
// set. The zero value picks them all.
type ExchangeFilter struct {
	Peer    string
	Handler string
	PID     actor.PID
}

func (f ExchangeFilter) match(e ExchangeInfo) bool {
	return (f.Peer == "" || f.Peer == e.Peer) && (f.Handler == "" || f.Handler == e.Handler) && (f.PID.IsZero() || f.PID == e.PID)
}

// CancelExchanges kills the running exchanges this node started that f
// picks, and returns them.
func (s *Server) CancelExchanges(ctx context.Context, f ExchangeFilter) ([]ExchangeInfo, error) {
	v, err := s.call(ctx, s.Name(), cancelReq{Filter: f})
	if err != nil {
		return nil, err
	}
	return v.([]ExchangeInfo), nil
}

func (s *Server) call(ctx context.Context, to actor.Name, req any) (any, error) {
	v, err := s.node.Call(ctx, to, req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, actor.ErrTimeout) {
			return nil, timeoutError{err}
		}
		return nil, err
	}
	return v, nil
}

// timeoutError matches ErrTimeout and context.DeadlineExceeded, and
// whatever the underlying error matches.
type timeoutError struct{ err error }

func (e timeoutError) Error() string { return "plumtree: timeout: " + e.err.Error() }
func (e timeoutError) Unwrap() []error {
	return []error{ErrTimeout, context.DeadlineExceeded, e.err}
}

// subscription ends a peer service subscription once, from whichever side
// first asks: the server's Terminate, or the callback finding the server
// gone (possibly before Subscribe has returned the cancel function).
type subscription struct {
	mu     sync.Mutex
	cancel func()
	ended  bool
}

func (s *subscription) set(cancel func()) {
	s.mu.Lock()
	ended := s.ended
	if !ended {
		s.cancel = cancel
	}
	s.mu.Unlock()
	if ended {
		cancel()
	}
}

func (s *subscription) stop() {
	s.mu.Lock()
	cancel := s.cancel
	s.cancel, s.ended = nil, true
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// runningExchange is an exchange the server monitors.
type runningExchange struct {
	id  uint64
	ref actor.Ref
	ExchangeInfo
}

// server is the gen_server: it owns the core and carries out its effects.
type server struct {
	s         *Server
	core      *Core
	exchanges []runningExchange
	unsub     func()
	sender    func(p *actor.Process, to, handler string, msg any)
}

var _ actor.GenServer = (*server)(nil)

func (g *server) Init(p *actor.Process) error {
	s := g.s
	members := s.cfg.Members
	if members == nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.CallTimeout)
		defer cancel()
		var err error
		members, err = membersOf(ctx, s.svc)
		if err != nil {
			return fmt.Errorf("plumtree: membership from the peer service: %w", err)
		}
	}
	core, err := NewCore(s.node.Name(), s.cfg.coreConfig(), members)
	if err != nil {
		return err
	}
	g.core = core
	g.sender = s.plainSender
	if rs, ok := s.svc.(interface{ Remote() *remote.Remote }); ok && rs.Remote() != nil {
		g.sender = s.channelSender(rs.Remote())
	}
	if !s.cfg.NoMembershipUpdates {
		pid, node := p.Self(), s.node
		sub := &subscription{}
		sub.set(s.svc.Subscribe(func(ev peerservice.MembershipEvent) {
			names := make([]string, len(ev.Members))
			for i, m := range ev.Members {
				names[i] = m.Name
			}
			// A server killed without Terminate (an untrapped exit) leaves
			// its subscription behind: the first event it misses ends it.
			if err := node.Send(pid, membershipChanged{members: names}); errors.Is(err, actor.ErrNoProc) {
				sub.stop()
			}
		}))
		g.unsub = sub.stop
	}
	p.SendAfter(s.cfg.LazyTickPeriod, p.Self(), lazyTick{})
	p.SendAfter(s.cfg.ExchangeTickPeriod, p.Self(), exchangeTick{})
	return nil
}

// membersOf asks the peer service for every member it knows (on a client
// of a client-server cluster, the other clients too).
func membersOf(ctx context.Context, svc peerservice.Manager) ([]string, error) {
	if all, ok := svc.(interface {
		AllMembers(context.Context) ([]remote.NodeSpec, error)
	}); ok {
		specs, err := all.AllMembers(ctx)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(specs))
		for i, sp := range specs {
			names[i] = sp.Name
		}
		return names, nil
	}
	return svc.Members(ctx)
}

func (g *server) Terminate(p *actor.Process, reason error) {
	if g.unsub != nil {
		g.unsub()
	}
}

func (g *server) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	switch r := req.(type) {
	case membersReq:
		return g.core.Members(), nil
	case getPeersReq:
		e, l := g.core.Peers(r.Root)
		return Peers{Eagers: e, Lazys: l}, nil
	case exchangesReq:
		return exchangesReply{List: g.exchangeList(ExchangeFilter{})}, nil
	case cancelReq:
		picked := g.exchangeList(r.Filter)
		for _, e := range g.exchanges {
			if r.Filter.match(e.ExchangeInfo) {
				_ = p.Exit(e.PID, actor.Kill)
			}
		}
		return picked, nil
	}
	return nil, fmt.Errorf("plumtree: unknown call %T", req)
}

func (g *server) exchangeList(f ExchangeFilter) []ExchangeInfo {
	out := []ExchangeInfo{}
	for _, e := range g.exchanges {
		if f.match(e.ExchangeInfo) {
			out = append(out, e.ExchangeInfo)
		}
	}
	return out
}

func (g *server) HandleInfo(p *actor.Process, msg any) error {
	now := time.Now()
	switch m := msg.(type) {
	case []any:
		if batch, ok := decodeBatch(m); ok {
			var effects []Effect
			for _, item := range batch {
				list, _ := item.([]any)
				from, pm, ok := decodeMessage(list)
				if !ok {
					g.s.log.Warn("plumtree: malformed message dropped")
					continue
				}
				effects = append(effects, g.handle(from, pm, now)...)
			}
			g.apply(p, effects)
			return nil
		}
		from, pm, ok := decodeMessage(m)
		if !ok {
			g.s.log.Warn("plumtree: malformed message dropped")
			return nil
		}
		g.apply(p, g.handle(from, pm, now))
	case broadcastReq:
		g.apply(p, g.core.Broadcast(m.handler, m.id, m.payload, now))
	case updateReq:
		g.apply(p, g.core.Update(m.members, now))
	case membershipChanged:
		g.apply(p, g.core.Update(m.members, now))
	case lazyTick:
		g.apply(p, g.core.LazyTick(now))
		p.SendAfter(g.s.cfg.LazyTickPeriod, p.Self(), lazyTick{})
	case exchangeTick:
		g.apply(p, g.core.ExchangeTick(now))
		p.SendAfter(g.s.cfg.ExchangeTickPeriod, p.Self(), exchangeTick{})
	case graftTimer:
		g.apply(p, g.core.GraftTimeout(m.handler, m.id, m.timer, now))
	case actor.DownMessage:
		for i, e := range g.exchanges {
			if e.ref == m.Ref {
				g.core.ExchangeEnded(e.id)
				g.exchanges = slices.Delete(g.exchanges, i, i+1)
				break
			}
		}
	}
	return nil
}

// handle asks the message's handler what the core needs to know, then
// hands the message to the core and returns its effects.
func (g *server) handle(from string, m Message, now time.Time) []Effect {
	name := m.handlerName()
	h, ok := g.s.handlers[name]
	if !ok {
		g.s.log.Warn("plumtree: message for an unknown handler dropped", "handler", name, "from", from)
		return nil
	}
	var v Verdict
	var err error
	switch m := m.(type) {
	case *Broadcast:
		err = guard(name, "Merge", func() error { v.Fresh = h.Merge(m.ID, m.Payload); return nil })
	case *IHave:
		err = guard(name, "IsStale", func() error { v.Stale = h.IsStale(m.ID); return nil })
	case *Graft:
		if !m.Optimize {
			gerr := guard(name, "Graft", func() error {
				payload, err := h.Graft(m.ID)
				switch {
				case err == nil:
					v.Graft = GraftResult{Status: GraftOK, Payload: payload}
				case errors.Is(err, ErrStale):
					v.Graft = GraftResult{Status: GraftStale}
				default:
					return err
				}
				return nil
			})
			if gerr != nil {
				g.s.log.Error("plumtree: unable to graft message", "handler", name, "id", fmt.Sprint(m.ID), "err", gerr)
				v.Graft = GraftResult{Status: GraftError}
			}
		}
	}
	if err != nil {
		// As if the message was lost: the protocol repairs it later.
		g.s.log.Error("plumtree: handler failed, message dropped", "handler", name, "from", from, "err", err)
		return nil
	}
	return g.core.Handle(from, m, v, now)
}

// apply carries out effects. Sends to one peer for one handler go as one
// wire message (a batch when there are several, such as a lazy tick's
// IHaves or the IgnoredIHaves answering them), in the order the core gave
// them; what goes to different peers has no order to keep.
func (g *server) apply(p *actor.Process, effects []Effect) {
	type dest struct{ to, handler string }
	var order []dest
	var groups map[dest][]any
	self := g.s.node.Name()
	for _, e := range effects {
		switch e.Kind {
		case EffectSend:
			d := dest{e.To, e.Msg.handlerName()}
			if groups == nil {
				groups = map[dest][]any{}
			}
			if _, ok := groups[d]; !ok {
				order = append(order, d)
			}
			groups[d] = append(groups[d], encodeMessage(self, e.Msg))
		case EffectArmGraftTimer:
			p.SendAfter(e.After, p.Self(), graftTimer{handler: e.Handler, id: e.ID, timer: e.Timer})
		case EffectStartExchange:
			g.startExchange(p, e)
		}
	}
	for _, d := range order {
		msgs := groups[d]
		if len(msgs) == 1 {
			g.sender(p, d.to, d.handler, msgs[0])
		} else {
			g.sender(p, d.to, d.handler, encodeBatch(msgs))
		}
	}
}

func (g *server) startExchange(p *actor.Process, e Effect) {
	h := g.s.handlers[e.Handler]
	var pid actor.PID
	err := guard(e.Handler, "Exchange", func() error {
		var err error
		pid, err = h.Exchange(p, e.Peer)
		return err
	})
	if err != nil || pid.IsZero() {
		g.core.ExchangeEnded(e.Exchange)
		if err != nil && !errors.Is(err, ErrIgnore) {
			g.s.log.Warn("plumtree: exchange failed to start", "handler", e.Handler, "peer", e.Peer, "err", err)
		}
		return
	}
	ref := p.Monitor(pid)
	g.exchanges = append(g.exchanges, runningExchange{id: e.Exchange, ref: ref, ExchangeInfo: ExchangeInfo{Handler: e.Handler, Peer: e.Peer, PID: pid}})
}

func (s *Server) plainSender(p *actor.Process, to, _ string, msg any) {
	if err := p.Send(actor.Name{Node: to, Name: s.cfg.Name}, msg); err != nil {
		s.log.Debug("plumtree: send failed", "peer", to, "err", err)
	}
}

// channelSender sends on the channel of the message's handler when it
// names one.
func (s *Server) channelSender(r *remote.Remote) func(p *actor.Process, to, handler string, msg any) {
	channels := map[string]string{}
	for name, h := range s.handlers {
		if ch, ok := h.(ChannelHandler); ok {
			if c := ch.Channel(); c != "" {
				channels[name] = c
			}
		}
	}
	if len(channels) == 0 {
		return s.plainSender
	}
	return func(p *actor.Process, to, handler string, msg any) {
		ch, ok := channels[handler]
		if !ok {
			s.plainSender(p, to, handler, msg)
			return
		}
		if err := r.Send(context.Background(), p.Self(), actor.Name{Node: to, Name: s.cfg.Name}, msg, remote.SendOptions{Channel: ch}); err != nil {
			s.log.Debug("plumtree: send failed", "peer", to, "channel", ch, "err", err)
		}
	}
}
