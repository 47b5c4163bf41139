// Package rafted is a value replicated by Raft: a consensus group whose
// members are gotp processes, each holding a replica of one value that
// changes only through commands the group has committed. It ports the Elixir
// library RaftedValue (rafted_value), with etcd's raft library
// (go.etcd.io/raft/v3, its RawNode) as the consensus core instead of a
// hand-written one.
//
// # Use
//
// The value is a Data: Command applies a command and returns its result,
// Query answers a read-only query, Snapshot and Restore encode it.
//
//	first, err := rafted.Start(ctx, node1, rafted.Options{NewData: newKV, Create: &rafted.Config{}, Name: "kv"})
//	second, err := rafted.Start(ctx, node2, rafted.Options{NewData: newKV, Join: []rafted.Server{first.Server()}, Name: "kv"})
//	ret, err := rafted.Command(ctx, node1, rafted.ByName("node1", "kv"), []any{"put", "k", int64(1)}, "req-17")
//	val, err := rafted.Query(ctx, node1, rafted.ByName("node1", "kv"), "k")
//
// A member started with Create makes a new group and is its only member and
// leader when Start returns. A member started with Join is added through
// the group's leader (a follower it asks answers with the leader, and Start
// follows). ChildSpec runs a member under a supervisor.
//
// Command and Query go to the leader; another member answers with a
// NotLeaderError naming the leader it knows. A command carrying an id that
// the group has already applied returns the first result without applying
// again, also after a leader change: the results of the last
// MaxRetainedCommandResults commands are part of the replicated state. A
// caller that timed out can therefore retry with the same id. Queries are
// linearizable: the leader confirms its leadership with a majority before
// answering (Raft's ReadIndex), or, with a lease configured
// (Config.ElectionTimeoutClockDriftMargin below ElectionTimeout), answers at
// once while a majority acknowledged one of its heartbeats within the lease.
//
// ChangeConfig, RemoveFollower, ReplaceLeader, ForceRemoveMember and
// GetStatus are RaftedValue's change_config, remove_follower,
// replace_leader, force_remove_member and status; their errors are the
// sentinels in errors.go (ErrUncommittedMembershipChange, ErrNotMember, ...).
//
// # How a member runs
//
// A member is one gen_server process that owns a RawNode. Ticks (a timer
// message every heartbeat interval), Raft messages from peers and client
// calls all arrive in its mailbox; the member handles raft's Ready in the
// same process: persist the hard state, entries and snapshot, send
// messages, apply committed entries, answer reads, advance. After a command
// or a peer's message it defers that to a message it sends itself, so that
// everything already in its mailbox is handled first: the commands that
// arrived meanwhile are proposed as one batch, and one Ready (one MsgApp per
// follower, one fsync) serves them all. Raft
// messages travel as ordinary gotp messages (a peerMsg carrying a
// gogoproto-encoded raftpb.Message, registered with wire.RegisterCodec) to
// the other members' registered names or PIDs, on any node. Callers waiting
// for a command are answered when its entry is applied; a late answer to a
// caller that gave up is dropped by actor.Call.
//
// Raft needs uint64 member IDs: a member's ID is a hash of its PID and name,
// and the ID ↔ address mapping travels in the context of the membership
// change that added it, so every member learns it from the log (and from
// snapshots). A member also learns a peer's newest PID from the peer's
// messages. A member with a Dir keeps its ID there.
//
// # Persistence
//
// With Options.Dir a member keeps its log, hard state and snapshots in
// files (fsync'd before it sends or applies anything; format in
// storage.go), so a group that loses every process restarts with every
// committed command: start each member again with the same Dir and Name.
// A snapshot is taken every MaxRetainedCommittedLogs applied entries (and
// after every membership change), entries older than that are dropped, and
// a follower that needs them is sent the snapshot.
//
// # Where it differs from RaftedValue
//
//   - The consensus core is etcd raft: PreVote and CheckQuorum are on, so a
//     leader cut off from its majority steps down after an election timeout,
//     and a returning member does not disrupt a healthy group.
//   - Config is split: the replicated Config (timings, retention) and the
//     member's Options (Data constructor, hook, name, directory).
//   - Leader leases are built on ReadIndex: the lease runs from when a
//     heartbeat was sent, not from when it was acknowledged, and is shortened
//     by a heartbeat interval because followers count election timeouts in
//     ticks.
//   - ReplaceLeader cannot cancel a transfer (etcd raft has no such
//     operation); a transfer that fails ends after an election timeout.
//   - ChangeConfig's new heartbeat interval applies at once; a new ratio of
//     election timeout to heartbeat interval applies when a member restarts.
//   - A command's result that is an error value is returned as Command's
//     error. Arguments and results must be wire values (see package wire).
//   - A command proposed by a leader that lost its leadership is answered if
//     its entry is still committed; otherwise its caller times out.
//   - Persistence goes beyond RaftedValue's in-memory members.
package rafted
