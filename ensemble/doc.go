// Package ensemble is riak_ensemble on gotp: many small consensus groups
// (ensembles), each a replicated versioned key/value store, a router pool
// on every node that finds an ensemble's leader, and a client callable
// from any node of the cluster, including nodes that host no peers.
//
// It ports riak_ensemble's router (riak_ensemble_router), manager
// (riak_ensemble_manager), peer (riak_ensemble_peer), client
// (riak_ensemble_client) and backend (riak_ensemble_backend) behaviours.
// The consensus inside an ensemble is not riak's own protocol but etcd
// raft (go.etcd.io/raft/v3), as in package rafted.
//
// # Use
//
//	svc, _ := ensemble.Start(node, peerSvc, ensemble.Config{})   // on every node
//	_ = svc1.Enable(ctx)                                         // once: a new cluster id
//	_ = svc2.Join(ctx, "n1")                                     // every other node
//	_ = svc1.CreateEnsemble(ctx, "users", []string{"n1", "n2", "n3"}, ensemble.MemoryBackend)
//	cl := svc4.Client()                                          // any node, peers or not
//	obj, err := cl.KOver(ctx, "users", "alice", []byte("v1"))
//	obj, err = cl.KGet(ctx, "users", "alice")
//	obj, err = cl.KUpdate(ctx, "users", "alice", obj, []byte("v2"))
//
// Typed[T] wraps a Client with an encoding of T; its Modify is a
// read-modify-write that retries KUpdate while other writers get in
// between.
//
// Every call to an ensemble needs a ctx with a deadline (ErrNoDeadline
// otherwise, as riak refuses an infinite timeout). Results are (Object,
// error); the errors are ErrFailed (a condition does not hold), ErrTimeout
// (which matches context.DeadlineExceeded) and ErrUnavailable.
//
// # Objects and versions
//
// An Object carries its key, value and version {Epoch, Seq}: Epoch is the
// Raft term of the leader that wrote it, Seq the index of the log entry,
// so versions increase along the log and compare the way riak's do. A key
// never written, or deleted, reads as an Object with NotFound set; a
// deleted key keeps its delete's version (read_tombstone).
//
// KOver writes unconditionally, KPutOnce only a key that holds nothing,
// KDelete deletes. KUpdate(key, current, new) and KSafeDelete(key,
// current) succeed when the key has not changed since the version current
// holds, and fail with ErrFailed otherwise. This is where the package
// differs on purpose: riak_ensemble rewrites every key under the new epoch
// the first time it is touched after a leader change, so a KUpdate with an
// object read before the change fails although nobody else wrote the key.
// Here a leader change rewrites nothing, and such an update succeeds.
//
// KGet answers from the leader. With Config.ReadMode LeaseRead (the
// default, riak's trust_lease) the leader answers at once while its lease
// holds: every tick it renews the lease with a ReadIndex round, and a
// majority's acknowledgement of one sent at t lets it answer until
// t + Lease, which is shorter than the follower timeout within which the
// followers (etcd raft's CheckQuorum) vote for no one else. Without a
// lease, and with QuorumRead, a read waits for a ReadIndex round
// confirming the leadership. The ReadRepair option sends the read through
// the log like a write (riak's read_repair: afterwards every peer of the
// acknowledging majority holds everything written before it).
//
// # How requests find leaders
//
// Each node runs Config.RouterPoolSize routers (riak hard-codes 7) and a
// manager. The manager keeps the node's directory: a map of ensemble
// views (members, leader, term) behind an atomic pointer, so a lookup is a
// map read with no lock, as riak's ETS table. It is kept fresh by leader
// change notifications (a new leader's node tells every cluster member,
// and a node that comes into the cluster), by the views a joining node
// pulls, and by gossip (every 20 ticks each manager sends one member the
// views it leads, so a node that missed a notice catches up). A client
// call goes straight to the local peer when it leads; otherwise to a
// random local router, which hands it to the local peer or forwards it to
// a random router on the leader's node; a peer that is not the leader
// forwards it to the leader it knows. Forwarding is a send carrying the caller's From, and whoever
// serves the request answers the caller directly: the actor layer's call
// aliases drop an answer that arrives after the caller gave up, so riak's
// proxy processes are not needed and a late reply never reaches the
// caller. A request crosses at most Config.MaxHops nodes, so stale
// directories cannot bounce it for ever; a nack, no known leader, the hop
// limit and an unreachable node all end as ErrTimeout.
//
// # Many groups per node
//
// One manager process per node is the multi-raft host of its peers (one
// gen_server per ensemble per node): one ticker for the node sends a tick
// to each peer that is not quiescent; the peers hand their Raft messages
// to the manager, which sends one batch per destination node per flush
// (a flush runs after everything already in its mailbox). An ensemble
// goes quiescent when its leader has nothing to do and every follower
// holds the whole log and has been told the commit index: the leader then
// tells its followers and all of them stop ticking, so an idle ensemble
// sends nothing. Any request, proposal or Raft message wakes a peer, and
// so does the silence of a node hosting another member: managers send
// each other a heartbeat (an empty batch) every tick, and a node unheard
// for three ticks (or reported down by the peer service) wakes the
// quiescent peers with members there, so followers notice a lost leader
// and a leader a lost majority. 1,000 idle ensembles cost one small frame
// per node pair per tick.
//
// # Cluster and membership
//
// The cluster state lives in the root ensemble (RootEnsemble, "root"), as
// in riak_ensemble: the cluster id and members under one key, each
// ensemble's creation under another. Enable makes a cluster of one node
// with a new id (a UUID) and starts the root with this node's peer, which
// leads at once. Join adds a node through any member and Remove takes one
// out, each a conditional update in the root: concurrent changes through
// different nodes are ordered by the root's log and none is lost, and a
// change needs a majority of the root's peers. The root's peers run on the
// first Config.RootMembers nodes (default 5); a removed one is replaced by
// the next node of the cluster that answers (one that does not is passed
// over, and the next Join fills the place), and a Remove that failed half
// way is finished by calling it again. Each node hosting a root peer
// pushes every new state to every member (and to a node just removed),
// managers pass it on to one member every 20 ticks, and Members and
// ClusterID read the node's copy. A node of another cluster is refused
// (ErrOtherCluster), and managers drop peer traffic from nodes with another
// cluster id.
// CreateEnsemble records the ensemble in the root first (of two creations
// of one id only one goes on, the other gets ErrExists) and starts a peer
// on each member node; UpdateMembers adds and removes peers in one
// membership change, through a joint configuration when it makes more
// than one change (ConfChangeV2), and reports ErrAlreadyMember,
// ErrNotMember and ErrNotInCluster. New peers catch up from the leader's
// log or snapshot (a peer snapshots after every configuration it
// applies, so that the snapshot raft sends a new peer holds it); a
// removed peer stops. GetLeader, GetViews and
// Ensembles (the root among them) read the directory. WatchLeaderStatus
// sends a process LeaderStatus messages when the local peer of an
// ensemble starts or stops leading.
//
// # Frames
//
// Config.MaxFrameSize is the distribution's (remote.Config.MaxFrameSize):
// a write whose log entry would not fit one frame is refused with
// ErrTooLarge (the leader could never send it), raft packs appends to fit
// one, a manager sends a node's messages in as many frames as they fill,
// and a snapshot larger than a frame travels in pieces the receiving peer
// puts together before raft sees it (at most Config.MaxSnapshotSize at
// once, 1 GiB by default).
//
// # Backends
//
// A Backend stores one peer's objects; the peer applies committed
// operations to it in log order and snapshots it for Raft. Two are built
// in: MemoryBackend, and FileBackend, which keeps each peer's objects in
// an append-only file under Config.DataDir (one record per write, with a
// CRC-32C, fsync'd before the write is acknowledged). On open it cuts off
// a torn last record (a crash mid-write) and refuses to start on damage
// before the end (ErrCorrupt). Config.Backends adds others by name.
//
// A peer acknowledges a write to its leader once the entry is in its Raft
// log, before it applies it; a backend that then fails the write, or
// acknowledges one it does not keep (riak's drop_write: its Get does not
// return what Put was given, which the peer checks after every write),
// would leave the peer's copy behind the log while Raft counts it up to
// date. The peer then builds its backend again from the latest snapshot
// and the log since, and applies the write once more; if the backend
// fails again the peer stops (logged), the ensemble goes on with its other
// members, and UpdateMembers can replace it. No reader is ever answered
// from a copy that lost a write.
//
// # Where it differs from riak_ensemble
//
//   - Consensus is etcd raft with PreVote and CheckQuorum; epochs are Raft
//     terms, sequence numbers are log indexes.
//   - The conditional update rule above (no rewrite on a new epoch).
//   - No proxy processes; a hop limit on forwarding.
//   - Join puts the joining node among the root's peers by itself (while
//     the root has fewer than Config.RootMembers), where riak leaves
//     growing the root to the caller.
//   - With Config.DataDir each peer keeps its Raft state (hard state, log,
//     snapshots; the format rafted uses) in DataDir/<ensemble>/raft, and a
//     node that restarts and joins its cluster again (Join) resumes the
//     peers the cluster's views list on it from that state, with either
//     backend (the backend is rebuilt from the snapshot and the log). A
//     damaged state is not resumed (ErrDamagedDir, logged): UpdateMembers
//     replaces that peer. Without a DataDir the Raft state is in memory: a
//     restarted node comes back with no peers, and UpdateMembers must
//     replace them. The cluster state itself is not kept on disk: a node
//     that restarts rejoins through another node (Enable would start a new
//     cluster, whose id its old peers do not carry).
//   - Peers run under the node's manager (linked to it) rather than under
//     a separate peer supervisor.
package ensemble
