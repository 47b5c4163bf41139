package ensemble

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/gotp-dev/gotp/actor"
)

// Client makes K/V requests to ensembles (riak_ensemble_client). It works
// on any node that runs the service, also one that hosts no peers.
type Client struct {
	s      *Service
	caller actor.Caller
}

// Client returns a client that calls from outside any process.
func (s *Service) Client() Client { return Client{s: s, caller: s.node} }

// ClientFor returns a client that calls as the given caller (the calling
// *actor.Process inside a process).
func (s *Service) ClientFor(c actor.Caller) Client { return Client{s: s, caller: c} }

// GetOption changes a KGet.
type GetOption func(*kvOp)

// ReadRepair makes a KGet go through the ensemble's log, as a write does:
// every peer that acknowledges it holds everything committed before it
// (riak's read_repair option, which rewrites lagging replicas).
func ReadRepair() GetOption { return func(o *kvOp) { o.ReadRepair = true } }

// KGet reads key. A key with no value is an Object with NotFound set.
func (c Client) KGet(ctx context.Context, ens, key string, opts ...GetOption) (Object, error) {
	op := kvOp{Kind: opGet, Key: key}
	for _, o := range opts {
		o(&op)
	}
	return c.do(ctx, ens, op)
}

// KUpdate writes value if key has not changed since current was read (its
// version is still current's), else fails with ErrFailed. Unlike
// riak_ensemble's, it does not fail because a leader change happened in
// between.
func (c Client) KUpdate(ctx context.Context, ens, key string, current Object, value []byte) (Object, error) {
	return c.do(ctx, ens, kvOp{Kind: opUpdate, Key: key, Value: value, Expect: current.Version()})
}

// KPutOnce writes value if key holds none, else fails with ErrFailed.
func (c Client) KPutOnce(ctx context.Context, ens, key string, value []byte) (Object, error) {
	return c.do(ctx, ens, kvOp{Kind: opPutOnce, Key: key, Value: value})
}

// KOver writes value whatever key holds.
func (c Client) KOver(ctx context.Context, ens, key string, value []byte) (Object, error) {
	return c.do(ctx, ens, kvOp{Kind: opOver, Key: key, Value: value})
}

// KDelete deletes key whatever it holds: it then holds a NotFound object
// with the delete's version.
func (c Client) KDelete(ctx context.Context, ens, key string) (Object, error) {
	return c.do(ctx, ens, kvOp{Kind: opDelete, Key: key})
}

// KSafeDelete deletes key if it has not changed since current was read,
// else fails with ErrFailed.
func (c Client) KSafeDelete(ctx context.Context, ens, key string, current Object) (Object, error) {
	return c.do(ctx, ens, kvOp{Kind: opSafeDelete, Key: key, Expect: current.Version()})
}

// do sends an operation to the leader: straight to the local peer when it
// leads, else through a random router of this node.
func (c Client) do(ctx context.Context, ens string, op kvOp) (Object, error) {
	if _, ok := ctx.Deadline(); !ok {
		return Object{}, ErrNoDeadline
	}
	s := c.s
	self := s.node.Name()
	var ret any
	var err error
	pid, local := s.dir.localPeer(ens)
	if v, _ := s.dir.view(ens); local && v.Leader == self {
		ret, err = c.caller.Call(ctx, pid, kvReq{Op: op})
	} else {
		to := actor.Name{Node: self, Name: routerName(rand.IntN(s.cfg.RouterPoolSize))}
		ret, err = c.caller.Call(ctx, to, routeReq{Ens: ens, Op: op})
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
			err = fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		return Object{}, err
	}
	obj, ok := ret.(Object)
	if !ok {
		return Object{}, fmt.Errorf("ensemble: unexpected answer %T", ret)
	}
	return obj, nil
}
