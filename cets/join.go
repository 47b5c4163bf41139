package cets

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/clusterlock"
)

// Join refusals, named as cets_join names them.
var (
	ErrJoinWithSamePID   = errors.New("cets: join_with_the_same_pid")
	ErrAlreadyJoined     = errors.New("cets: already_joined")
	ErrOverlap           = errors.New("cets: check_do_not_overlap_failed")
	ErrNotFullyConnected = errors.New("cets: check_fully_connected_failed")
	ErrNotSameJoinRef    = errors.New("cets: check_same_join_ref_failed")
	ErrCannotReach       = errors.New("cets: check_could_reach_each_other_failed")
)

// DefaultJoinLock is the lock ID joins take unless JoinOptions.LockID says
// otherwise: one join at a time in the whole cluster, whatever the table,
// as discovery wants (a join holds two dumps in memory).
const DefaultJoinLock = "gotp.cets.join"

// JoinOptions configure a Join. The zero value works.
type JoinOptions struct {
	// LockID is the cluster lock the join holds. Default DefaultJoinLock.
	LockID string
	// Locks names the lock servers (package clusterlock), which must run on
	// every node of both clusters. Default: clusterlock.DefaultName.
	Locks clusterlock.Locks
	// ChunkBytes is the size dumps are moved in. Default DefaultChunkBytes.
	ChunkBytes int
	// Step, when set, is called at each step of the join ("locked",
	// "checked", "paused", "dumped", "sent", "unpaused"), inside the lock;
	// tests use it to watch or delay a join.
	Step func(step string)
}

// Join makes local's cluster and remote's cluster one: both clusters'
// servers end up with every record of both and every server as a peer, and
// a new join ref, as cets_join:join/4 does. It runs under a cluster lock on
// the nodes of both clusters, pauses every server of both while it copies,
// and resolves keys present on both sides with local's HandleConflict.
//
// It is refused with ErrJoinWithSamePID, ErrAlreadyJoined, ErrOverlap (the
// clusters share a server), ErrNotFullyConnected (a server's peers are not
// the rest of its cluster), ErrNotSameJoinRef (a cluster's servers disagree
// on the join ref) or ErrCannotReach (a server of one side cannot call one of
// the other).
func Join(ctx context.Context, node *actor.Node, local, remote actor.Dest, opts JoinOptions) error {
	if opts.LockID == "" {
		opts.LockID = DefaultJoinLock
	}
	if opts.Step == nil {
		opts.Step = func(string) {}
	}
	li, err := GetInfo(ctx, node, local)
	if err != nil {
		return fmt.Errorf("cets: join: local: %w", err)
	}
	ri, err := GetInfo(ctx, node, remote)
	if err != nil {
		return fmt.Errorf("cets: join: remote: %w", err)
	}
	if err := checkPair(li, ri); err != nil {
		return err
	}
	nodes := slices.Concat(li.Nodes, ri.Nodes)
	return opts.Locks.Trans(ctx, node, opts.LockID, nodes, func(ctx context.Context) error {
		opts.Step("locked")
		return joinLocked(ctx, node, li.Server, ri.Server, opts)
	})
}

func checkPair(li, ri Info) error {
	if li.Server == ri.Server {
		return ErrJoinWithSamePID
	}
	if slices.Contains(li.OtherServers, ri.Server) {
		return ErrAlreadyJoined
	}
	return nil
}

func joinLocked(ctx context.Context, node *actor.Node, local, remote actor.PID, opts JoinOptions) error {
	// Under the lock, look again: the clusters may have changed meanwhile.
	li, err := GetInfo(ctx, node, local)
	if err != nil {
		return fmt.Errorf("cets: join: local: %w", err)
	}
	ri, err := GetInfo(ctx, node, remote)
	if err != nil {
		return fmt.Errorf("cets: join: remote: %w", err)
	}
	if err := checkPair(li, ri); err != nil {
		return err
	}
	localPIDs := servers(li)
	remotePIDs := servers(ri)
	for _, p := range localPIDs {
		if slices.Contains(remotePIDs, p) {
			return ErrOverlap
		}
	}
	for _, side := range [][]actor.PID{localPIDs, remotePIDs} {
		if err := checkSide(ctx, node, side); err != nil {
			return err
		}
	}
	for _, p := range localPIDs {
		if _, err := node.Call(ctx, p, checkReachReq{Servers: remotePIDs}); err != nil {
			return reachError(err)
		}
	}
	for _, p := range remotePIDs {
		if _, err := node.Call(ctx, p, checkReachReq{Servers: localPIDs}); err != nil {
			return reachError(err)
		}
	}
	opts.Step("checked")

	// Pauses held by a process of the join's own: if the join is cut short
	// in any way, its exit releases them all.
	owner, err := node.Spawn(actor.Func(func(p *actor.Process, msg any) error { return actor.Normal }))
	if err != nil {
		return err
	}
	defer func() { _ = node.Send(owner, struct{}{}) }()
	all := slices.Concat(localPIDs, remotePIDs)
	type held struct {
		server actor.PID
		ref    actor.Ref
	}
	var pauses []held
	defer func() {
		for _, h := range pauses {
			_ = Unpause(context.WithoutCancel(ctx), node, h.server, h.ref)
		}
		opts.Step("unpaused")
	}()
	for _, p := range all {
		ref, err := Pause(ctx, node, p, owner)
		if err != nil {
			return fmt.Errorf("cets: join: pause %s: %w", p, err)
		}
		pauses = append(pauses, held{p, ref})
	}
	opts.Step("paused")

	// Both dumps are taken before either side receives anything, so
	// neither includes what it is sent.
	localDump, err := dumpChunks(ctx, node, local, opts.ChunkBytes)
	if err != nil {
		return fmt.Errorf("cets: join: dump %s: %w", local, err)
	}
	remoteDump, err := dumpChunks(ctx, node, remote, opts.ChunkBytes)
	if err != nil {
		return fmt.Errorf("cets: join: dump %s: %w", remote, err)
	}
	opts.Step("dumped")

	for _, side := range []struct {
		servers []actor.PID
		chunks  [][]byte
		left    bool
	}{{localPIDs, remoteDump, true}, {remotePIDs, localDump, false}} {
		for _, p := range side.servers {
			for _, chunk := range side.chunks {
				if _, err := node.Call(ctx, p, mergeReq{Chunk: chunk, Left: side.left}); err != nil {
					return fmt.Errorf("cets: join: send dump to %s: %w", p, err)
				}
			}
		}
	}
	joinRef := rand.Uint64()
	for _, p := range all {
		if _, err := node.Call(ctx, p, sendDumpReq{Peers: all, JoinRef: joinRef}); err != nil {
			return fmt.Errorf("cets: join: join ref to %s: %w", p, err)
		}
	}
	opts.Step("sent")
	return nil
}

func reachError(err error) error {
	if errors.Is(err, ErrCannotReach) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCannotReach, err)
}

func servers(info Info) []actor.PID {
	out := append([]actor.PID{info.Server}, info.OtherServers...)
	slices.SortFunc(out, comparePID)
	return out
}

// checkSide checks that the servers of one cluster see exactly each other
// and share one join ref.
func checkSide(ctx context.Context, node *actor.Node, side []actor.PID) error {
	var ref uint64
	for i, p := range side {
		info, err := GetInfo(ctx, node, p)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrNotFullyConnected, p, err)
		}
		if !slices.Equal(servers(info), side) {
			return fmt.Errorf("%w: %s sees %v, not %v", ErrNotFullyConnected, p, servers(info), side)
		}
		if i == 0 {
			ref = info.JoinRef
		} else if info.JoinRef != ref {
			return fmt.Errorf("%w: %s", ErrNotSameJoinRef, p)
		}
	}
	return nil
}
