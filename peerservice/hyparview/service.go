package hyparview

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

// ManagerName is the name the manager process registers on every node;
// managers of other nodes send to it.
const ManagerName = "gotp_hyparview_manager"

// ManagerConfig configures the production manager. The zero value works.
type ManagerConfig struct {
	// Protocol sizes the views and walks (see Config).
	Protocol Config
	// ShuffleInterval is the period of SHUFFLE. Default 10 s (Partisan's
	// passive view maintenance interval).
	ShuffleInterval time.Duration
	// TickInterval is the period of Core.Tick (expired NEIGHBOR requests,
	// filling a short active view) and of join retries. Default 1 s.
	TickInterval time.Duration
	// Seed seeds the core's random choices; 0 takes the node's creation.
	Seed uint64
	// OnMessage receives what other nodes send with SendMessage.
	OnMessage func(from string, msg any)
	// Logger receives the manager's logs. Default: the node's logger.
	Logger *slog.Logger
}

// ErrUnsupported is returned for Manager operations a partial view cannot
// offer (acknowledged forwarding, reservations).
var ErrUnsupported = errors.New("hyparview: not supported")

func (c ManagerConfig) withDefaults(node *actor.Node) ManagerConfig {
	if c.ShuffleInterval == 0 {
		c.ShuffleInterval = 10 * time.Second
	}
	if c.TickInterval == 0 {
		c.TickInterval = time.Second
	}
	if c.Seed == 0 {
		c.Seed = uint64(node.Creation())
	}
	if c.Logger == nil {
		c.Logger = node.Logger()
	}
	c.Protocol = c.Protocol.withDefaults()
	return c
}

func (c ManagerConfig) validate() error {
	if c.ShuffleInterval < 0 || c.TickInterval < 0 {
		return fmt.Errorf("%w: negative interval", ErrConfig)
	}
	return c.Protocol.validate()
}

// Service is a running HyParView manager: the handle on its process. It
// implements peerservice.Manager; Members are this node and its active
// view, as in Partisan's HyParView manager.
type Service struct {
	node   *actor.Node
	r      *remote.Remote
	policy *Policy
	cfg    ManagerConfig
	log    *slog.Logger

	ownsRemote bool
	sup        actor.PID

	mu       sync.Mutex
	contacts []remote.NodeSpec // the manager's join contacts, for a restarted manager
	stopped  bool
	ups      []watcher
	downs    []watcher
	subs     map[int]func(peerservice.MembershipEvent)
	nextSub  int
	queue    []func()
	wake     chan struct{}
	done     chan struct{}
	notifyWG sync.WaitGroup
}

type watcher struct {
	id   int
	node string
	fn   func(remote.NodeSpec)
}

var _ peerservice.Manager = (*Service)(nil)

// StartNode starts node's remote layer with rcfg and the HyParView policy,
// then the manager. Stop stops both.
func StartNode(node *actor.Node, rcfg remote.Config, cfg ManagerConfig) (*Service, error) {
	pol := NewPolicy()
	r, err := remote.Start(node, pol.RemoteConfig(rcfg))
	if err != nil {
		return nil, err
	}
	s, err := Start(node, r, pol, cfg)
	if err != nil {
		r.Stop()
		return nil, err
	}
	s.ownsRemote = true
	return s, nil
}

// Start starts the manager, registered as ManagerName, under a supervisor
// of its own, on a node whose remote layer was started with pol installed.
func Start(node *actor.Node, r *remote.Remote, pol *Policy, cfg ManagerConfig) (*Service, error) {
	s, spec, err := newService(node, r, pol, cfg)
	if err != nil {
		return nil, err
	}
	sup, err := supervisor.Start(node, spec)
	if err != nil {
		s.stopNotifier()
		return nil, fmt.Errorf("hyparview: start manager: %w", err)
	}
	s.sup = sup
	return s, nil
}

// ChildSpec returns the manager as a worker of the caller's supervision
// tree, and the handle on it.
func ChildSpec(id string, node *actor.Node, r *remote.Remote, pol *Policy, cfg ManagerConfig) (supervisor.ChildSpec, *Service, error) {
	s, _, err := newService(node, r, pol, cfg)
	if err != nil {
		return supervisor.ChildSpec{}, nil, err
	}
	return s.worker(id), s, nil
}

func newService(node *actor.Node, r *remote.Remote, pol *Policy, cfg ManagerConfig) (*Service, supervisor.Spec, error) {
	if pol == nil {
		return nil, supervisor.Spec{}, errors.New("hyparview: nil policy")
	}
	cfg = cfg.withDefaults(node)
	if err := cfg.validate(); err != nil {
		return nil, supervisor.Spec{}, err
	}
	s := &Service{node: node, r: r, policy: pol, cfg: cfg, log: cfg.Logger.With("node", node.Name()),
		subs: map[int]func(peerservice.MembershipEvent){}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.notifyWG.Add(1)
	go s.runNotifier()
	return s, supervisor.Spec{Children: []supervisor.ChildSpec{s.worker("manager")}}, nil
}

func (s *Service) worker(id string) supervisor.ChildSpec {
	return supervisor.Worker(id, func() actor.GenServer { return &server{svc: s} }, actor.WithName(ManagerName))
}

// Stop stops the manager and its supervisor, and the remote layer if
// StartNode started it.
func (s *Service) Stop(ctx context.Context) error {
	var err error
	if !s.sup.IsZero() {
		err = supervisor.Stop(ctx, s.node, s.sup)
		if errors.Is(err, actor.ErrNoProc) {
			err = nil
		}
	}
	s.stopNotifier()
	if s.ownsRemote {
		s.r.Stop()
	}
	return err
}

// Remote returns the node's remote layer.
func (s *Service) Remote() *remote.Remote { return s.r }

func (s *Service) call(ctx context.Context, req any) (any, error) {
	return s.node.Call(ctx, actor.Name{Name: ManagerName}, req)
}

// Calls to the manager.
type (
	callActive    struct{}
	callPassive   struct{}
	callJoin      struct{ spec remote.NodeSpec }
	callSyncJoin  struct{ spec remote.NodeSpec }
	callLeave     struct{}
	callLeaveNode struct{ node string }
	callUpdate    struct{ specs []remote.NodeSpec }
	callInject    struct {
		origin string
		ttl    int
	}
	callResolve    struct{ ref string }
	callPartitions struct{}
)

// Myself implements peerservice.Manager.
func (s *Service) Myself() remote.NodeSpec { return s.r.Spec() }

// Active returns the active view, sorted.
func (s *Service) Active(ctx context.Context) ([]string, error) {
	v, err := s.call(ctx, callActive{})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// Passive returns the passive view, sorted.
func (s *Service) Passive(ctx context.Context) ([]string, error) {
	v, err := s.call(ctx, callPassive{})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// Members implements peerservice.Manager: this node and its active view.
func (s *Service) Members(ctx context.Context) ([]string, error) {
	act, err := s.Active(ctx)
	if err != nil {
		return nil, err
	}
	out := append(act, s.node.Name())
	slices.Sort(out)
	return out, nil
}

// MembersForOrchestration implements peerservice.Manager.
func (s *Service) MembersForOrchestration(ctx context.Context) ([]remote.NodeSpec, error) {
	v, err := s.call(ctx, callState{})
	if err != nil {
		return nil, err
	}
	return peerservice.Decode(v.(peerservice.State)), nil
}

// Join implements peerservice.Manager: it sends JOIN to spec, and again
// every TickInterval while the active view is empty.
func (s *Service) Join(spec remote.NodeSpec) error {
	_, err := s.call(context.Background(), callJoin{spec: spec})
	return err
}

// SyncJoin implements peerservice.Manager: it returns once the active view
// holds a peer, or when ctx ends.
func (s *Service) SyncJoin(ctx context.Context, spec remote.NodeSpec) error {
	_, err := s.call(actor.WithoutCallTimeout(ctx), callSyncJoin{spec: spec})
	return err
}

// Leave implements peerservice.Manager: every active peer is told with
// DISCONNECT and the views are emptied; Join starts over.
func (s *Service) Leave(ctx context.Context) error {
	_, err := s.call(ctx, callLeave{})
	return err
}

// LeaveNode implements peerservice.Manager.
func (s *Service) LeaveNode(ctx context.Context, node string) error {
	if node == s.node.Name() {
		return s.Leave(ctx)
	}
	_, err := s.call(ctx, callLeaveNode{node: node})
	return err
}

// UpdateMembers implements peerservice.Manager. A partial view cannot be
// made equal to a list; the specs are taken as contacts: their addresses
// are learnt, and a node with an empty active view joins through the first.
func (s *Service) UpdateMembers(ctx context.Context, specs []remote.NodeSpec) error {
	_, err := s.call(ctx, callUpdate{specs: slices.Clone(specs)})
	return err
}

func (s *Service) check(dest string) error {
	if s.policy.partitioned(dest) {
		return fmt.Errorf("%w: %s", peerservice.ErrPartitioned, dest)
	}
	return nil
}

// ForwardMessage implements peerservice.Manager. Messages go directly to
// the destination's node (HyParView keeps no relays); opts.Ack is not
// supported.
func (s *Service) ForwardMessage(ctx context.Context, to peerservice.Target, msg any, opts peerservice.ForwardOptions) error {
	if opts.Ack {
		return fmt.Errorf("%w: acknowledged forwarding", ErrUnsupported)
	}
	var dest actor.Dest = to.Name
	node := to.Name.Node
	if !to.PID.IsZero() {
		dest, node = to.PID, to.PID.Node
	}
	if node == "" || node == s.node.Name() {
		return s.node.Send(dest, msg)
	}
	if err := s.check(node); err != nil {
		return err
	}
	return s.r.Send(ctx, opts.From, dest, msg, remote.SendOptions{Channel: opts.Channel, PartitionKey: opts.PartitionKey})
}

// CastMessage implements peerservice.Manager.
func (s *Service) CastMessage(ctx context.Context, to actor.Name, msg any) error {
	if to.Node != "" && to.Node != s.node.Name() {
		if err := s.check(to.Node); err != nil {
			return err
		}
	}
	return s.r.Send(ctx, actor.PID{}, to, actor.CastMessage{Message: msg}, remote.SendOptions{})
}

// SendMessage implements peerservice.Manager.
func (s *Service) SendMessage(ctx context.Context, node string, msg any) error {
	if err := s.check(node); err != nil {
		return err
	}
	return s.r.Send(ctx, actor.PID{}, actor.Name{Node: node, Name: ManagerName}, []any{tagUser, s.node.Name(), msg}, remote.SendOptions{})
}

// OnUp implements peerservice.Manager: fn runs each time node (any node
// for "") enters the active view.
func (s *Service) OnUp(node string, fn func(remote.NodeSpec)) func() {
	return s.addWatcher(&s.ups, node, fn)
}

// OnDown implements peerservice.Manager: fn runs each time node (any node
// for "") leaves the active view.
func (s *Service) OnDown(node string, fn func(remote.NodeSpec)) func() {
	return s.addWatcher(&s.downs, node, fn)
}

// InjectPartition implements peerservice.Manager: the partition spreads
// from origin over the active views for ttl hops (at least 1); application
// traffic between origin and every node it reached is cut.
func (s *Service) InjectPartition(ctx context.Context, origin string, ttl int) (string, error) {
	v, err := s.call(ctx, callInject{origin: origin, ttl: max(ttl, 1)})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// ResolvePartition implements peerservice.Manager.
func (s *Service) ResolvePartition(ctx context.Context, ref string) error {
	_, err := s.call(ctx, callResolve{ref: ref})
	return err
}

// Partitions implements peerservice.Manager.
func (s *Service) Partitions(ctx context.Context) ([]peerservice.Partition, error) {
	v, err := s.call(ctx, callPartitions{})
	if err != nil {
		return nil, err
	}
	return v.([]peerservice.Partition), nil
}

// Reserve implements peerservice.Manager; HyParView has no reservations
// here.
func (s *Service) Reserve(ctx context.Context, tag string) error {
	return fmt.Errorf("%w: reservations", ErrUnsupported)
}

// SupportsCapability implements peerservice.Manager.
func (s *Service) SupportsCapability(c peerservice.Capability) bool {
	return c == peerservice.CapPartitionInjection || c == peerservice.CapMonotonicChannels
}

// Subscribe implements peerservice.Manager: fn gets the members after each
// change of the active view.
func (s *Service) Subscribe(fn func(peerservice.MembershipEvent)) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subs, id)
	}
}

type callState struct{}

// GetLocalState implements peerservice.Manager: the active view and this
// node, as a state peerservice.Decode reads.
func (s *Service) GetLocalState(ctx context.Context) (peerservice.State, error) {
	v, err := s.call(ctx, callState{})
	if err != nil {
		return peerservice.State{}, err
	}
	return v.(peerservice.State), nil
}

func (s *Service) addWatcher(list *[]watcher, node string, fn func(remote.NodeSpec)) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextSub
	s.nextSub++
	*list = append(*list, watcher{id: id, node: node, fn: fn})
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		*list = slices.DeleteFunc(*list, func(w watcher) bool { return w.id == id })
	}
}

// post queues fn for the notifier goroutine, which runs callbacks in order,
// never on the manager's goroutine.
func (s *Service) post(fn func()) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, fn)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Service) runNotifier() {
	defer s.notifyWG.Done()
	for {
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			fn := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			s.safely(fn)
		}
	}
}

func (s *Service) safely(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("callback panicked", "panic", fmt.Sprint(r))
		}
	}()
	fn()
}

func (s *Service) stopNotifier() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	s.mu.Unlock()
	close(s.done)
	s.notifyWG.Wait()
}

// notifyChange posts the callbacks for a change of the active view.
func (s *Service) notifyChange(spec remote.NodeSpec, up bool, members []remote.NodeSpec) {
	s.mu.Lock()
	list := s.downs
	if up {
		list = s.ups
	}
	var fns []func(remote.NodeSpec)
	for _, w := range list {
		if w.node == "" || w.node == spec.Name {
			fns = append(fns, w.fn)
		}
	}
	ids := make([]int, 0, len(s.subs))
	for id := range s.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var subs []func(peerservice.MembershipEvent)
	for _, id := range ids {
		subs = append(subs, s.subs[id])
	}
	s.mu.Unlock()
	for _, fn := range fns {
		s.post(func() { fn(spec) })
	}
	for _, fn := range subs {
		s.post(func() { fn(peerservice.MembershipEvent{Members: members}) })
	}
}

func (s *Service) saveContacts(c []remote.NodeSpec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contacts = slices.Clone(c)
}

func (s *Service) savedContacts() []remote.NodeSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.contacts)
}
