package ensemble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gotp-dev/gotp/actor"
)

// RootEnsemble is the id of the ensemble that holds the cluster state
// (riak_ensemble_root): the cluster id and members under one key, and
// under another key per ensemble the members and backend it was created
// with. Its peers run on the first Config.RootMembers nodes of the
// cluster. Every change of the cluster is a conditional update there, so
// concurrent changes through different nodes are ordered by its log and
// none is lost, and a change needs a majority of its peers.
const RootEnsemble = "root"

// Keys of the root ensemble.
const clusterKey = "cluster"

func ensembleKey(id string) string { return "ensemble/" + id }

// clusterValue is the value of clusterKey.
type clusterValue struct {
	ID      string   `json:"id"`
	Members []string `json:"members"`
}

// ensembleValue is the value of an ensemble's key: how it was created.
type ensembleValue struct {
	Members []string `json:"members"`
	Backend string   `json:"backend"`
}

// clusterOf decodes the cluster state an object of clusterKey holds; its
// version is the object's log index, so states compare along the root's
// log.
func clusterOf(o Object) (clusterState, error) {
	var v clusterValue
	if err := json.Unmarshal(o.Value, &v); err != nil {
		return clusterState{}, fmt.Errorf("ensemble: the root's cluster state: %w", err)
	}
	return clusterState{ID: v.ID, Version: o.Seq, Members: v.Members}, nil
}

// rootState is a cluster state the root ensemble committed, sent to the
// manager by the local root peer's backend when it stores one, and by
// Service methods that changed it.
type rootState struct{ Obj Object }

// rootBackend is the backend of a root peer: it tells the manager of
// every cluster state it stores, so that each node hosting a root peer
// publishes the state as its peer applies it.
type rootBackend struct {
	Backend
	notify func(Object)
}

func (b rootBackend) Put(o Object) error {
	if err := b.Backend.Put(o); err != nil {
		return err
	}
	if o.Key == clusterKey && !o.NotFound {
		b.notify(o)
	}
	return nil
}

func (b rootBackend) Restore(snap []byte) error {
	if err := b.Backend.Restore(snap); err != nil {
		return err
	}
	if o, ok := b.Backend.Get(clusterKey); ok && !o.NotFound {
		b.notify(o)
	}
	return nil
}

// changeCluster reads the cluster state from the root ensemble, lets
// change modify it (it reports whether it did) and writes it back if the
// root's state has not changed since it was read, reading again while
// other changes get in between. It hands the state now in the root to the
// local manager.
func (s *Service) changeCluster(ctx context.Context, change func(*clusterValue) (bool, error)) error {
	mine, err := actor.CallAs[clusterState](ctx, s.node, s.local(), clusterReq{})
	if err != nil {
		return err
	}
	if mine.ID == "" {
		return ErrNotEnabled
	}
	for {
		obj, err := s.rootGet(ctx, clusterKey)
		if err != nil {
			return err
		}
		if obj.NotFound {
			return ErrNotEnabled
		}
		st, err := clusterOf(obj)
		if err != nil {
			return err
		}
		v := clusterValue{ID: st.ID, Members: st.Members}
		changed, err := change(&v)
		if err != nil {
			return err
		}
		if changed {
			slices.Sort(v.Members)
			b, _ := json.Marshal(v)
			read := obj
			err = s.untilServed(ctx, func(ctx context.Context) (err error) {
				obj, err = s.Client().KUpdate(ctx, RootEnsemble, clusterKey, read, b)
				return err
			})
			if errors.Is(err, ErrFailed) { // another change came first, or this one did: read again
				continue
			}
			if err != nil {
				return err
			}
		}
		_, err = s.node.Call(ctx, s.local(), rootState{Obj: obj})
		return err
	}
}

// rootGet reads key in the root ensemble, waiting out nacks.
func (s *Service) rootGet(ctx context.Context, key string) (Object, error) {
	var obj Object
	err := s.untilServed(ctx, func(ctx context.Context) (err error) {
		obj, err = s.Client().KGet(ctx, RootEnsemble, key)
		return err
	})
	return obj, err
}

// rootPutOnce writes value under key in the root ensemble if the key holds
// nothing, waiting out nacks. It returns what the key holds and whether
// this call wrote it (else it was there: written by another, or by an
// earlier attempt whose answer was lost).
func (s *Service) rootPutOnce(ctx context.Context, key string, value []byte) (Object, bool, error) {
	var obj Object
	err := s.untilServed(ctx, func(ctx context.Context) (err error) {
		obj, err = s.Client().KPutOnce(ctx, RootEnsemble, key, value)
		return err
	})
	if !errors.Is(err, ErrFailed) {
		return obj, err == nil, err
	}
	obj, err = s.rootGet(ctx, key)
	return obj, false, err
}

// inRoot reports whether this node's view of the root lists node.
func (s *Service) inRoot(node string) bool {
	v, _ := s.dir.view(RootEnsemble)
	return slices.Contains(v.Members, node) || slices.Contains(v.OldMembers, node)
}

// register records a new ensemble in the root: ErrExists when the id is
// taken by one created otherwise (a repeat of the same creation, one that
// failed half-way, goes on).
func (s *Service) register(ctx context.Context, id string, v ensembleValue) error {
	if id == RootEnsemble {
		return ErrExists
	}
	b, _ := json.Marshal(v)
	obj, written, err := s.rootPutOnce(ctx, ensembleKey(id), b)
	if err != nil || written {
		return err
	}
	var had ensembleValue
	if json.Unmarshal(obj.Value, &had) != nil || had.Backend != v.Backend || !slices.Equal(had.Members, v.Members) {
		return fmt.Errorf("%w: %s", ErrExists, id)
	}
	return nil
}

// rootChange is the change that makes the root's members follow the
// cluster's: members no longer in the cluster go, and up to want of the
// candidates (the cluster's nodes that are not members, in order) come in,
// so that the root has size members if the cluster has them.
func rootChange(root, cluster []string, size int) (candidates []string, want int, del []string) {
	for _, n := range root {
		if !slices.Contains(cluster, n) {
			del = append(del, n)
		}
	}
	for _, n := range cluster {
		if !slices.Contains(root, n) {
			candidates = append(candidates, n)
		}
	}
	return candidates, max(size-(len(root)-len(del)), 0), del
}

// fitRoot makes the root's members follow the cluster's, as rootChange
// says, in one membership change made from what the root holds (the
// cluster state read again, the members from the root's leader; not this
// node's view of them, which may lag), so that concurrent changes cannot
// put a removed node back. A change under way (a concurrent join) or no
// leader known yet is waited out, a tick at a time, until ctx ends.
func (s *Service) fitRoot(ctx context.Context) error {
	err := s.untilServed(ctx, s.fitRootOnce)
	if err != nil {
		return fmt.Errorf("ensemble: root ensemble members: %w", err)
	}
	return nil
}

// untilServed calls op again, a tick later, while it fails with
// ErrTimeout before ctx ends: a nack (no leader known yet, a change under
// way), which the service's own requests to the root wait out. Each
// attempt has two follower timeouts at most, so that a request lost with a
// leader that stepped down or stopped is asked again. (The requests are
// reads, conditional writes and changes made from what the root's leader
// holds: asking again is safe.)
func (s *Service) untilServed(ctx context.Context, op func(context.Context) error) error {
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*s.cfg.FollowerTimeout)
		err := op(attempt)
		cancel()
		if !errors.Is(err, ErrTimeout) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(s.cfg.Tick):
		}
	}
}

func (s *Service) fitRootOnce(ctx context.Context) error {
	obj, err := s.Client().KGet(ctx, RootEnsemble, clusterKey)
	if err != nil {
		return err
	}
	cluster, err := clusterOf(obj)
	if err != nil {
		return err
	}
	v, ok := s.dir.view(RootEnsemble)
	if !ok || v.Leader == "" {
		return ErrTimeout
	}
	st, err := s.PeerStatus(ctx, v.Leader, RootEnsemble)
	if err != nil || st.State != "leader" || len(st.OldMembers) > 0 {
		return ErrTimeout
	}
	candidates, want, del := rootChange(st.Members, cluster.Members, s.cfg.RootMembers)
	// A candidate whose node does not answer within a follower timeout is
	// passed over: a root short of a member beats a change that cannot be
	// made (the next Join fills the place).
	var add []string
	for _, n := range candidates {
		if len(add) == want {
			break
		}
		sub, cancel := context.WithTimeout(ctx, s.cfg.FollowerTimeout)
		err := s.startPeer(sub, n, RootEnsemble, st.Members, cluster.ID)
		cancel()
		if err != nil {
			s.cfg.Logger.Warn("ensemble: root ensemble: a node passed over", "node", n, "err", err)
			continue
		}
		add = append(add, n)
	}
	if len(add) == 0 && len(del) == 0 {
		return nil
	}
	if len(del) == len(st.Members) && len(add) == 0 {
		return errors.New("ensemble: the root ensemble would have no members")
	}
	_, err = s.node.Call(ctx, managerOf(v.Leader), updateMembersReq{Ens: RootEnsemble, Add: add, Del: del})
	if errors.Is(err, ErrAlreadyMember) || errors.Is(err, ErrNotMember) {
		// Another change completed between the status read and this one:
		// read again.
		return ErrTimeout
	}
	if err != nil {
		return err
	}
	return s.confirmAdded(ctx, RootEnsemble, st.Members, cluster.ID, add)
}
