package ensemble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/peerservice"
	"github.com/gotp-dev/gotp/remote"
	"github.com/gotp-dev/gotp/supervisor"
)

// Service is the ensemble service of one node: its supervisor, manager,
// routers and peers. Its methods are the API of riak_ensemble_manager;
// Client gives the K/V operations.
type Service struct {
	node       *actor.Node
	cfg        Config
	dir        *directory
	sup        actor.PID
	cancelDown func()
}

// Start runs the ensemble service on node under one rest_for_one
// supervisor: the router pool, then the manager (which supervises the
// node's peers). svc, when not nil, is the node's peer service: its
// failure detector's down events wake the quiescent peers with members on
// the failed node at once (without it the manager's own heartbeats find a
// silent node within three ticks).
func Start(node *actor.Node, svc peerservice.Manager, cfg Config) (*Service, error) {
	spec, s, err := ChildSpec(node, svc, cfg)
	if err != nil {
		return nil, err
	}
	pid, err := supervisor.Start(node, supervisor.Spec{Strategy: supervisor.OneForOne, Children: []supervisor.ChildSpec{spec}})
	if err != nil {
		s.stopWatch()
		return nil, err
	}
	s.sup = pid
	return s, nil
}

// ChildSpec returns the spec of the service's supervisor, to run the
// service in a tree of one's own, and the handle on it.
func ChildSpec(node *actor.Node, svc peerservice.Manager, cfg Config) (supervisor.ChildSpec, *Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return supervisor.ChildSpec{}, nil, err
	}
	s := &Service{node: node, cfg: cfg, dir: newDirectory()}
	routers := make([]supervisor.ChildSpec, cfg.RouterPoolSize)
	for i := range routers {
		name := routerName(i)
		routers[i] = supervisor.Worker(name, func() actor.GenServer { return &router{dir: s.dir, cfg: cfg} }, actor.WithName(name))
	}
	spec := supervisor.ChildSupervisor("gotp_ensemble_sup", supervisor.Spec{
		Strategy: supervisor.RestForOne,
		Children: []supervisor.ChildSpec{
			supervisor.ChildSupervisor("routers", supervisor.Spec{Strategy: supervisor.OneForOne, Children: routers}),
			supervisor.Worker("manager", func() actor.GenServer { return newManager(cfg, s.dir) },
				actor.WithName(managerName), actor.WithTrapExit()),
		},
	})
	if svc != nil {
		s.cancelDown = svc.OnDown("", func(spec remote.NodeSpec) {
			_ = node.Send(actor.Name{Name: managerName}, nodeDownMsg{Node: spec.Name})
		})
	}
	return spec, s, nil
}

func (s *Service) stopWatch() {
	if s.cancelDown != nil {
		s.cancelDown()
	}
}

// Stop stops the service started by Start, and its peers.
func (s *Service) Stop(ctx context.Context) error {
	s.stopWatch()
	if s.sup.IsZero() {
		return nil
	}
	return s.node.StopProcess(ctx, s.sup, actor.Shutdown)
}

func (s *Service) local() actor.Name { return actor.Name{Node: s.node.Name(), Name: managerName} }

func managerOf(node string) actor.Name { return actor.Name{Node: node, Name: managerName} }

// Enable makes this node a cluster of one, with a new cluster id
// (riak_ensemble_manager:enable): it starts the root ensemble with this
// node's peer as its only member and writes the cluster state there.
func (s *Service) Enable(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		return ErrNoDeadline
	}
	st, err := actor.CallAs[clusterState](ctx, s.node, s.local(), enableReq{ID: uuid.NewString()})
	if err != nil {
		return err
	}
	b, _ := json.Marshal(clusterValue{ID: st.ID, Members: []string{s.node.Name()}})
	// Already there: an earlier attempt wrote it, and its answer was lost.
	obj, _, err := s.rootPutOnce(ctx, clusterKey, b)
	if err != nil {
		return fmt.Errorf("ensemble: write the cluster state: %w", err)
	}
	_, err = s.node.Call(ctx, s.local(), rootState{Obj: obj})
	return err
}

// ClusterID returns the id of the node's cluster ("" before Enable or Join).
func (s *Service) ClusterID(ctx context.Context) (string, error) {
	st, err := actor.CallAs[clusterState](ctx, s.node, s.local(), clusterReq{})
	return st.ID, err
}

// Members returns the cluster's nodes, sorted.
func (s *Service) Members(ctx context.Context) ([]string, error) {
	st, err := actor.CallAs[clusterState](ctx, s.node, s.local(), clusterReq{})
	return st.Members, err
}

// Join adds this node to the cluster of node (riak_ensemble_manager:join):
// node, any member, hands over its views, the cluster state gets this
// node through the root ensemble, and the root takes this node as a peer
// while it has fewer than Config.RootMembers. A node of another cluster is
// refused with ErrOtherCluster, on both sides. Joining again (after a
// restart, say) changes nothing but resumes the peers kept under DataDir.
func (s *Service) Join(ctx context.Context, node string) error {
	if _, ok := ctx.Deadline(); !ok {
		return ErrNoDeadline
	}
	self := s.node.Name()
	mine, err := actor.CallAs[clusterState](ctx, s.node, s.local(), clusterReq{})
	if err != nil {
		return err
	}
	st, err := actor.CallAs[clusterState](ctx, s.node, managerOf(node), joinReq{Node: self, Cluster: mine.ID})
	if err != nil {
		return err
	}
	views, err := actor.CallAs[viewsReply](ctx, s.node, managerOf(node), viewsReq{All: true})
	if err != nil {
		return err
	}
	if _, err = s.node.Call(ctx, s.local(), adoptReq{State: st, Views: views.Views}); err != nil {
		return err
	}
	err = s.changeCluster(ctx, func(v *clusterValue) (bool, error) {
		if slices.Contains(v.Members, self) {
			return false, nil
		}
		v.Members = append(v.Members, self)
		return true, nil
	})
	if err != nil {
		return err
	}
	return s.fitRoot(ctx)
}

// Remove takes node out of the cluster (riak_ensemble_manager:remove),
// through the root ensemble; when it was a peer of the root, the root
// takes another node of the cluster in its place if there is one that
// answers. Its peers of other ensembles stay members until UpdateMembers
// removes them. A Remove that failed after the cluster state changed (the
// root's leader lost, say) is finished by calling it again.
func (s *Service) Remove(ctx context.Context, node string) error {
	if _, ok := ctx.Deadline(); !ok {
		return ErrNoDeadline
	}
	err := s.changeCluster(ctx, func(v *clusterValue) (bool, error) {
		switch {
		case !slices.Contains(v.Members, node) && s.inRoot(node):
			return false, nil // a Remove that failed half-way: finish it
		case !slices.Contains(v.Members, node):
			return false, ErrNotInCluster
		case len(v.Members) == 1:
			return false, errors.New("ensemble: the cluster's last member cannot be removed")
		}
		v.Members = slices.DeleteFunc(v.Members, func(n string) bool { return n == node })
		return true, nil
	})
	if err != nil {
		return err
	}
	return s.fitRoot(ctx)
}

// CreateEnsemble creates ensemble id with a peer on each of peers (nodes
// of the cluster) storing its objects in the named backend ("" or
// MemoryBackend for memory). The ensemble is recorded in the root ensemble
// first, so that of two creations of one id only one goes on (the other
// gets ErrExists; repeating a creation as it was made goes on, to finish
// one that failed half-way). It returns once every peer runs; the peers
// elect a leader within a follower timeout or two.
func (s *Service) CreateEnsemble(ctx context.Context, id string, peers []string, backend string) error {
	if _, ok := ctx.Deadline(); !ok {
		return ErrNoDeadline
	}
	st, err := actor.CallAs[clusterState](ctx, s.node, s.local(), clusterReq{})
	if err != nil {
		return err
	}
	if st.ID == "" {
		return ErrNotEnabled
	}
	if id == "" || len(peers) == 0 {
		return errors.New("ensemble: CreateEnsemble needs an id and peers")
	}
	peers = slices.Clone(peers)
	slices.Sort(peers)
	peers = slices.Compact(peers)
	for _, n := range peers {
		if !slices.Contains(st.Members, n) {
			return fmt.Errorf("%w: %s", ErrNotInCluster, n)
		}
	}
	if backend == "" {
		backend = MemoryBackend
	}
	if err := s.register(ctx, id, ensembleValue{Members: peers, Backend: backend}); err != nil {
		return err
	}
	for _, n := range peers {
		req := startPeerReq{Ens: id, Members: peers, Backend: backend, Bootstrap: true, Cluster: st.ID}
		if _, err := s.node.Call(ctx, managerOf(n), req); err != nil && !errors.Is(err, ErrExists) {
			return fmt.Errorf("ensemble: start peer of %s on %s: %w", id, n, err)
		}
	}
	_ = s.node.Send(s.local(), View{Ensemble: id, Members: peers})
	return nil
}

// UpdateMembers adds and removes peers of an ensemble in one change,
// through a joint configuration when there is more than one (etcd raft's
// ConfChangeV2). The new peers are started first and catch up from the
// leader. Errors: ErrAlreadyMember, ErrNotMember, ErrNotInCluster, and
// ErrTimeout when no leader answered (or another change is under way).
func (s *Service) UpdateMembers(ctx context.Context, id string, add, del []string) error {
	if _, ok := ctx.Deadline(); !ok {
		return ErrNoDeadline
	}
	st, err := actor.CallAs[clusterState](ctx, s.node, s.local(), clusterReq{})
	if err != nil {
		return err
	}
	v, ok := s.dir.view(id)
	if !ok {
		return ErrUnavailable
	}
	// Whether each is a member or not the leader checks, in the
	// configuration it holds: this node's view may not show a change
	// that just completed.
	for _, n := range add {
		if !slices.Contains(st.Members, n) {
			return fmt.Errorf("%w: %s", ErrNotInCluster, n)
		}
	}
	if v.Leader == "" {
		return ErrTimeout
	}
	return s.changeMembers(ctx, id, v.Leader, v.Members, st.ID, add, del)
}

// changeMembers starts the peers to add (joining the ensemble, whose
// members are given) and asks the leader's peer to change the members.
func (s *Service) changeMembers(ctx context.Context, id, leader string, members []string, cluster string, add, del []string) error {
	for _, n := range add {
		if err := s.startPeer(ctx, n, id, members, cluster); err != nil {
			return err
		}
	}
	if _, err := s.node.Call(ctx, managerOf(leader), updateMembersReq{Ens: id, Add: add, Del: del}); err != nil {
		return err
	}
	return s.confirmAdded(ctx, id, members, cluster, add)
}

// confirmAdded tells each added node's manager that the leader added it,
// so that a peer of an earlier membership that stops after all (it had
// yet to apply its removal) is followed by one that joins.
func (s *Service) confirmAdded(ctx context.Context, id string, members []string, cluster string, add []string) error {
	for _, n := range add {
		req := addedReq{Start: startPeerReq{Ens: id, Members: members, Cluster: cluster}}
		if _, err := s.node.Call(ctx, managerOf(n), req); err != nil {
			return fmt.Errorf("ensemble: the peer of %s on %s: %w", id, n, err)
		}
	}
	return nil
}

// startPeer starts on node a peer that joins ensemble id (of the given
// members); one running there already will do.
func (s *Service) startPeer(ctx context.Context, node, id string, members []string, cluster string) error {
	req := startPeerReq{Ens: id, Members: members, Bootstrap: false, Cluster: cluster}
	if _, err := s.node.Call(ctx, managerOf(node), req); err != nil && !errors.Is(err, ErrExists) {
		return fmt.Errorf("ensemble: start peer of %s on %s: %w", id, node, err)
	}
	return nil
}

// Ensembles lists the ensembles this node knows, sorted. It reads the
// node's directory: no call, no lock.
func (s *Service) Ensembles() []string {
	views := *s.dir.views.Load()
	ids := make([]string, 0, len(views))
	for id := range views {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// GetLeader returns the node of the ensemble's leader as this node knows
// it, from its directory.
func (s *Service) GetLeader(id string) (string, bool) {
	v, ok := s.dir.view(id)
	return v.Leader, ok && v.Leader != ""
}

// WaitLeader waits until this node's directory names a leader of ensemble
// id other than any in except (the leader just lost, say), and returns it,
// or ctx's error. It wakes on the directory's updates (leader change
// notifications and gossip), on any node, with or without a peer of the
// ensemble.
func (s *Service) WaitLeader(ctx context.Context, id string, except ...string) (string, error) {
	v, err := s.dir.waitView(ctx, id, func(v View, found bool) bool {
		return found && v.Leader != "" && !slices.Contains(except, v.Leader)
	})
	return v.Leader, err
}

// GetViews returns the ensemble's views as this node knows them: the
// members, and while a change is joint, the old members second.
func (s *Service) GetViews(id string) ([][]string, bool) {
	v, ok := s.dir.view(id)
	if !ok {
		return nil, false
	}
	views := [][]string{v.Members}
	if len(v.OldMembers) > 0 {
		views = append(views, v.OldMembers)
	}
	return views, true
}

// View returns the node's whole view of an ensemble.
func (s *Service) View(id string) (View, bool) { return s.dir.view(id) }

// PeerStatus asks the peer of ensemble id on node what it knows; the
// leader's answer has each follower's match index and lag.
func (s *Service) PeerStatus(ctx context.Context, node, id string) (PeerStatus, error) {
	return actor.CallAs[PeerStatus](ctx, s.node, managerOf(node), statusReq{Ens: id})
}
