package peerservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/supervisor"
)

// Manager is the peer service manager's interface: partisan_peer_service_manager
// in Go case. *Service implements it.
type Manager interface {
	// Myself returns this node's spec.
	Myself() remote.NodeSpec
	// Members returns the names of the members, sorted. A client of a
	// client-server cluster lists the servers and itself.
	Members(ctx context.Context) ([]string, error)
	// MembersForOrchestration returns the members' specs, sorted by name.
	MembersForOrchestration(ctx context.Context) ([]remote.NodeSpec, error)
	// Join joins the cluster through spec in the background, retrying until
	// it succeeds, the node leaves or the service stops.
	Join(spec remote.NodeSpec) error
	// SyncJoin joins through spec and returns once every channel's
	// connections to the node joined (spec, or the server it referred this
	// node to) are up, or when ctx ends.
	SyncJoin(ctx context.Context, spec remote.NodeSpec) error
	// Leave takes this node out of the cluster.
	Leave(ctx context.Context) error
	// LeaveNode takes another node out of the cluster; it is told and leaves.
	LeaveNode(ctx context.Context, node string) error
	// UpdateMembers makes membership equal specs (plus this node).
	UpdateMembers(ctx context.Context, specs []remote.NodeSpec) error
	// ForwardMessage sends msg to a process (by PID or registered name) on
	// another node.
	ForwardMessage(ctx context.Context, to Target, msg any, opts ForwardOptions) error
	// CastMessage casts msg to the gen_server registered as to.Name on to.Node.
	CastMessage(ctx context.Context, to actor.Name, msg any) error
	// SendMessage sends msg to the manager of node, which hands it to its
	// Config.OnMessage.
	SendMessage(ctx context.Context, node string, msg any) error
	// OnUp calls fn with the spec of node (any node for "") each time the
	// failure detector finds it alive.
	OnUp(node string, fn func(remote.NodeSpec)) (cancel func())
	// OnDown calls fn with the spec of node (any node for "") each time it
	// is found failed.
	OnDown(node string, fn func(remote.NodeSpec)) (cancel func())
	// InjectPartition cuts application traffic between origin and the nodes
	// the injection reaches within ttl hops, and returns its reference.
	InjectPartition(ctx context.Context, origin string, ttl int) (string, error)
	// ResolvePartition heals an injected partition everywhere it reached.
	ResolvePartition(ctx context.Context, ref string) error
	// Partitions lists the partitions this node holds.
	Partitions(ctx context.Context) ([]Partition, error)
	// Reserve takes a slot for tag (see Config.Reservations).
	Reserve(ctx context.Context, tag string) error
	// SupportsCapability reports whether the manager supports c.
	SupportsCapability(c Capability) bool
	// Subscribe calls fn with the membership after each change.
	Subscribe(fn func(MembershipEvent)) (cancel func())
	// GetLocalState returns this node's membership state as it gossips and
	// stores it; Decode reads the members out of it.
	GetLocalState(ctx context.Context) (State, error)
}

var _ Manager = (*Service)(nil)

// Capability names an optional feature of a manager.
type Capability string

// Capabilities.
const (
	CapMonotonicChannels  Capability = "monotonic_channels"
	CapAckedForwarding    Capability = "acked_forwarding"
	CapRelay              Capability = "relay"
	CapPartitionInjection Capability = "partition_injection"
	CapPersistence        Capability = "persistence"
)

// Target is where ForwardMessage sends: a PID, or a registered name on a node.
type Target struct {
	PID  actor.PID
	Name actor.Name
}

// ToPID targets a process.
func ToPID(pid actor.PID) Target { return Target{PID: pid} }

// ToName targets a registered name on a node.
func ToName(node, name string) Target { return Target{Name: actor.Name{Node: node, Name: name}} }

func (t Target) node() string {
	if !t.PID.IsZero() {
		return t.PID.Node
	}
	return t.Name.Node
}

// ForwardOptions refine ForwardMessage. The zero value sends on the default
// channel, keyed by sender, relayed if needed, without acknowledgement.
type ForwardOptions struct {
	// From is the sending process, if any; messages from one sender to one
	// destination stay in order.
	From actor.PID
	// Channel names the remote channel; default remote.DefaultChannel.
	Channel string
	// PartitionKey picks the connection within the channel.
	PartitionKey string
	// Ack makes the managers acknowledge the message: it is sent again every
	// Config.RetransmitInterval until the destination's manager acknowledges
	// it (at most Config.MaxRetransmits times, then given up), and delivered
	// there once, in the order this node sent its acknowledged messages to
	// that node. Acknowledged messages go through the managers, so they are
	// not ordered with unacknowledged ones.
	Ack bool
	// NoRelay refuses to send through a server when there is no direct
	// connection (the send fails with ErrNotYetConnected).
	NoRelay bool
}

// Service is a running peer service: the handle on the manager process.
type Service struct {
	node   *actor.Node
	r      *remote.Remote
	policy *Policy
	cfg    Config
	log    *slog.Logger
	notify *notifier

	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	ownsRemote bool
	ownsSup    bool // Start's supervisor, not a child of the caller's tree
	// unsubscribe ends the policy's subscription to the remote layer's
	// peer events.
	unsubscribe func()

	mu         sync.Mutex
	sup        actor.PID // the service's supervisor, as last started
	manager    actor.PID // the manager, as last started
	joinCtx    context.Context
	joinCancel context.CancelFunc
}

// StartNode starts node's distribution layer with rcfg, the peer service's
// policy and role tag added, and then the peer service. Stop stops both.
func StartNode(node *actor.Node, rcfg remote.Config, cfg Config) (*Service, error) {
	pol := NewPolicy(cfg)
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

// Start starts the peer service on a node whose remote layer r was started
// with pol installed (remote.Config from pol.RemoteConfig): it spawns the
// manager under a supervisor, registered as ManagerName.
func Start(node *actor.Node, r *remote.Remote, pol *Policy, cfg Config) (*Service, error) {
	s, err := newService(node, r, pol, cfg)
	if err != nil {
		return nil, err
	}
	sup, err := supervisor.Start(node, s.supervisorSpec())
	if err != nil {
		s.unsubscribe()
		s.cancel()
		s.notify.stop()
		return nil, fmt.Errorf("peerservice: start manager: %w", err)
	}
	s.setSupervisor(sup)
	s.ownsSup = true
	return s, nil
}

// ChildSpec returns the peer service as a child of the caller's own
// supervision tree (a supervisor child, whose supervisor runs the manager),
// and the handle on it, which works while the child runs. The remote layer r
// must have been started with pol installed, as for Start. The service's
// processes start and stop with the tree; Stop on the handle only ends its
// goroutines, and r stays the caller's to stop.
func ChildSpec(id string, node *actor.Node, r *remote.Remote, pol *Policy, cfg Config) (supervisor.ChildSpec, *Service, error) {
	s, err := newService(node, r, pol, cfg)
	if err != nil {
		return supervisor.ChildSpec{}, nil, err
	}
	spec := supervisor.ChildSpec{
		ID:   id,
		Type: supervisor.SupervisorChild,
		Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			s.awaitOldManager()
			sup, err := supervisor.StartLink(p, s.supervisorSpec())
			if err != nil {
				return actor.PID{}, fmt.Errorf("peerservice: start manager: %w", err)
			}
			s.setSupervisor(sup)
			return sup, nil
		},
	}
	return spec, s, nil
}

func newService(node *actor.Node, r *remote.Remote, pol *Policy, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults(node.Logger())
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if pol == nil || pol.topology != cfg.Topology || pol.role != cfg.Role {
		return nil, ErrNoPolicy
	}
	s := &Service{node: node, r: r, policy: pol, cfg: cfg, log: cfg.Logger.With("node", node.Name())}
	s.unsubscribe = r.Subscribe(pol.peerEvent)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.joinCtx, s.joinCancel = context.WithCancel(s.ctx)
	s.notify = newNotifier()
	return s, nil
}

// supervisorSpec is the service's own supervisor: the manager.
func (s *Service) supervisorSpec() supervisor.Spec {
	return supervisor.Spec{
		Children: []supervisor.ChildSpec{
			supervisor.Worker("manager", func() actor.GenServer { return &manager{svc: s} }, actor.WithName(ManagerName)),
		},
	}
}

// awaitOldManager waits, on a restart, until the manager of the service's
// last supervisor is gone: it dies of its supervisor's exit on its own time,
// and holds ManagerName until it has.
func (s *Service) awaitOldManager() {
	s.mu.Lock()
	old := s.manager
	s.mu.Unlock()
	if pid, ok := s.node.WhereIs(ManagerName); !ok || old.IsZero() || pid != old {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.JoinTimeout)
	defer cancel()
	_ = s.node.StopProcess(ctx, old, actor.Shutdown)
}

func (s *Service) setSupervisor(sup actor.PID) {
	s.mu.Lock()
	s.sup = sup
	s.mu.Unlock()
}

// Stop stops the manager and its supervisor (unless the service runs in the
// caller's tree, from ChildSpec), and the remote layer if StartNode started
// it.
func (s *Service) Stop(ctx context.Context) error {
	var err error
	if s.ownsSup {
		// The manager goes first, so that it starts no more background work.
		err = supervisor.Stop(ctx, s.node, s.Supervisor())
		if errors.Is(err, actor.ErrNoProc) {
			err = nil
		}
	}
	s.unsubscribe()
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	s.notify.stop()
	if s.ownsRemote {
		s.r.Stop()
	}
	return err
}

// Remote returns the node's distribution layer.
func (s *Service) Remote() *remote.Remote { return s.r }

// Supervisor returns the PID of the service's supervisor.
func (s *Service) Supervisor() actor.PID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sup
}

// track runs fn on a goroutine of the service's, unless the service is
// stopped; fn gets the context given (or the service's).
func (s *Service) track(ctx context.Context, fn func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	if ctx == nil {
		ctx = s.ctx
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(ctx)
	}()
}

func (s *Service) joinContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joinCtx
}

func (s *Service) call(ctx context.Context, req any) (any, error) {
	if s.ctx.Err() != nil {
		return nil, ErrStopped
	}
	return s.node.Call(ctx, actor.Name{Name: ManagerName}, req)
}

func (s *Service) callErr(ctx context.Context, req any) error {
	_, err := s.call(ctx, req)
	return err
}

// Myself implements Manager.
func (s *Service) Myself() remote.NodeSpec { return s.r.Spec() }

// Members implements Manager.
func (s *Service) Members(ctx context.Context) ([]string, error) {
	specs, err := s.MembersForOrchestration(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(specs))
	for i, sp := range specs {
		names[i] = sp.Name
	}
	return names, nil
}

// MembersForOrchestration implements Manager.
func (s *Service) MembersForOrchestration(ctx context.Context) ([]remote.NodeSpec, error) {
	v, err := s.call(ctx, callMembers{})
	if err != nil {
		return nil, err
	}
	return v.([]remote.NodeSpec), nil
}

// AllMembers returns every member's spec this node knows, sorted by name.
// It differs from MembersForOrchestration only on a client of a
// client-server cluster, which knows the other clients too (to route to
// them) though its Members lists only the servers and itself.
func (s *Service) AllMembers(ctx context.Context) ([]remote.NodeSpec, error) {
	v, err := s.call(ctx, callMembers{all: true})
	if err != nil {
		return nil, err
	}
	return v.([]remote.NodeSpec), nil
}

// Join implements Manager. It does not block: the attempts run in the
// background, and their failures are logged.
func (s *Service) Join(spec remote.NodeSpec) error {
	if spec.Name == "" {
		return fmt.Errorf("peerservice: join: empty node name")
	}
	if s.ctx.Err() != nil {
		return ErrStopped
	}
	s.startJoin(spec)
	return nil
}

// SyncJoin implements Manager.
func (s *Service) SyncJoin(ctx context.Context, spec remote.NodeSpec) error {
	got, err := s.connectReferred(ctx, spec)
	if err != nil {
		return fmt.Errorf("peerservice: join %s: %w", spec.Name, err)
	}
	return s.callErr(ctx, callJoined{spec: got})
}

// Leave implements Manager. Background joins are abandoned.
func (s *Service) Leave(ctx context.Context) error {
	s.mu.Lock()
	s.joinCancel()
	s.joinCtx, s.joinCancel = context.WithCancel(s.ctx)
	s.mu.Unlock()
	return s.callErr(ctx, callLeave{})
}

// LeaveNode implements Manager.
func (s *Service) LeaveNode(ctx context.Context, node string) error {
	return s.callErr(ctx, callLeaveNode{name: node})
}

// UpdateMembers implements Manager.
func (s *Service) UpdateMembers(ctx context.Context, specs []remote.NodeSpec) error {
	return s.callErr(ctx, callUpdate{specs: slices.Clone(specs)})
}

// check says whether application traffic may go to dest.
func (s *Service) check(dest string, noRelay bool) error {
	if s.policy.partitioned(dest) {
		return fmt.Errorf("%w: %s", ErrPartitioned, dest)
	}
	if !s.policy.isMember(dest) && !s.r.IsConnected(dest) {
		return fmt.Errorf("%w: %s", ErrNotYetConnected, dest)
	}
	if noRelay && s.policy.isRelayed(dest) {
		return fmt.Errorf("%w: %s is reached only through a server", ErrNotYetConnected, dest)
	}
	return nil
}

// ForwardMessage implements Manager.
func (s *Service) ForwardMessage(ctx context.Context, to Target, msg any, opts ForwardOptions) error {
	dest := to.node()
	if dest == "" || dest == s.node.Name() {
		if !to.PID.IsZero() {
			return s.node.Send(to.PID, msg)
		}
		return s.node.Send(to.Name, msg)
	}
	if err := s.check(dest, opts.NoRelay); err != nil {
		return err
	}
	if opts.Ack {
		return s.callErr(ctx, callForward{dest: dest, msg: forwardMsg{To: to.PID, ToName: to.Name, Msg: msg}})
	}
	so := remote.SendOptions{Channel: opts.Channel, PartitionKey: opts.PartitionKey}
	if !to.PID.IsZero() {
		return s.r.Send(ctx, opts.From, to.PID, msg, so)
	}
	return s.r.Send(ctx, opts.From, to.Name, msg, so)
}

// CastMessage implements Manager.
func (s *Service) CastMessage(ctx context.Context, to actor.Name, msg any) error {
	if to.Node != "" && to.Node != s.node.Name() {
		if err := s.check(to.Node, false); err != nil {
			return err
		}
	}
	return s.r.Send(ctx, actor.PID{}, to, actor.CastMessage{Message: msg}, remote.SendOptions{})
}

// SendMessage implements Manager.
func (s *Service) SendMessage(ctx context.Context, node string, msg any) error {
	if node != s.node.Name() {
		if err := s.check(node, false); err != nil {
			return err
		}
	}
	return s.r.Send(ctx, actor.PID{}, actor.Name{Node: node, Name: ManagerName}, userMsg{From: s.node.Name(), Msg: msg}.list(), remote.SendOptions{})
}

// OnUp implements Manager.
func (s *Service) OnUp(node string, fn func(remote.NodeSpec)) func() {
	return s.notify.add(s.notify.up, watcher{node: node, fn: fn})
}

// OnDown implements Manager.
func (s *Service) OnDown(node string, fn func(remote.NodeSpec)) func() {
	return s.notify.add(s.notify.down, watcher{node: node, fn: fn})
}

// InjectPartition implements Manager. ttl below 1 is taken as 1: the origin
// and its direct peers.
func (s *Service) InjectPartition(ctx context.Context, origin string, ttl int) (string, error) {
	if ttl < 1 {
		ttl = 1
	}
	v, err := s.call(ctx, callInject{origin: origin, ttl: ttl})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// ResolvePartition implements Manager.
func (s *Service) ResolvePartition(ctx context.Context, ref string) error {
	return s.callErr(ctx, callResolve{ref: ref})
}

// Partitions implements Manager.
func (s *Service) Partitions(ctx context.Context) ([]Partition, error) {
	v, err := s.call(ctx, callPartitions{})
	if err != nil {
		return nil, err
	}
	return v.([]Partition), nil
}

// Reserve implements Manager.
func (s *Service) Reserve(ctx context.Context, tag string) error {
	return s.callErr(ctx, callReserve{tag: tag})
}

// SupportsCapability implements Manager.
func (s *Service) SupportsCapability(c Capability) bool {
	switch c {
	case CapMonotonicChannels, CapAckedForwarding, CapPartitionInjection:
		return true
	case CapRelay:
		return s.cfg.Topology == ClientServer
	case CapPersistence:
		return s.cfg.DataDir != ""
	}
	return false
}

// Subscribe implements Manager.
func (s *Service) Subscribe(fn func(MembershipEvent)) func() { return s.notify.subscribe(fn) }

// Watch sends each MembershipEvent to the process pid, until cancelled.
func (s *Service) Watch(pid actor.PID) func() { return s.notify.subscribe(watchProcess(s.node, pid)) }

// GetLocalState implements Manager.
func (s *Service) GetLocalState(ctx context.Context) (State, error) {
	v, err := s.call(ctx, callState{})
	if err != nil {
		return State{}, err
	}
	return v.(State), nil
}

// Decode returns the members a membership state holds, sorted by name, as
// the node that holds the state sees them (partisan's decode/1).
func Decode(st State) []remote.NodeSpec {
	set := NewORSet("")
	set.Merge(st)
	return set.Members()
}

// Stats returns the manager's counters.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	v, err := s.call(ctx, callStats{})
	if err != nil {
		return Stats{}, err
	}
	return v.(Stats), nil
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
