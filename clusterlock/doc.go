// Package clusterlock is a cluster-wide lock: at most one holder at a time,
// across a given set of nodes, holds a lock ID, and a holder that dies, or
// whose node is lost, lets go by itself.
//
// # What it ports
//
// The part of Erlang's global module that cets_join (and many users) need:
// global:trans/3 and global:set_lock/3, del_lock/2 with a {LockId, Requester}
// lock over a list of nodes. As in global, the lock lives on every node of the
// list, in a lock server registered by name on each, and the requester is a
// process that every server monitors.
//
//	global:set_lock({Id, Pid}, Nodes)    Acquire(ctx, caller, pid, id, nodes)
//	global:del_lock({Id, Pid}, Nodes)    (*Lock).Release(ctx, caller)
//	global:trans({Id, Pid}, Fun, Nodes)  Trans(ctx, node, id, nodes, fn)
//
// # Use
//
// Start a server on every node (or put ChildSpec in the node's supervision
// tree), then:
//
//	err := clusterlock.Trans(ctx, node, "cets_join:orders", []string{"a", "b", "c"},
//		func(ctx context.Context) error {
//			// at most one of these runs at a time across a, b and c
//			return nil
//		})
//
// Acquire takes the lock for a holder process of the caller's choosing and
// returns a *Lock to Release; Trans spawns a short-lived holder for the
// duration of fn, so the lock ends with fn however fn ends.
//
// # How it works
//
// Each server keeps, per lock ID, the holder (with a count for nested
// acquisitions by the same holder) and a queue of waiting requests in arrival
// order. Acquire asks the servers one after the other in sorted node order and
// waits for each grant: every acquirer takes the nodes in the same order, so
// no two wait for each other in a cycle and no retries are needed. A server
// monitors every holder and waiter it knows of; the DOWN of a holder (its exit,
// or noconnection when its node is lost) hands the lock to the next waiter.
// If Acquire fails part-way (ctx's deadline, an unreachable node) it gives back
// what it took and withdraws its waiting request before it returns.
//
// The server's logic is a pure core (set, release, down -> effects: grant,
// refuse, monitor, demonitor, in a deterministic order) in a thin gen_server
// shell.
//
// # Where it differs from Erlang
//
//   - global retries set_lock with random sleeps and returns aborted after
//     a number of retries; here a request waits in a queue until granted or
//     until ctx ends (ErrTimeout, which matches context.DeadlineExceeded).
//   - global only locks the nodes it is connected to; here every node of the
//     list must answer: an unreachable node fails Acquire with that node's
//     error (noconnection, or ErrTimeout). Give only the nodes that should
//     take part (cets gives the nodes of the two clusters it joins).
//   - The lock servers' name is configurable (Config.Name, Locks.Name), so
//     independent users can keep separate lock spaces.
//   - A server that restarts starts empty: locks it had granted are gone on
//     that node.
package clusterlock
