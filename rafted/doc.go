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
// follows): first as a learner, then, once it has caught up, as a voter. A
// member that fails to join is removed again, so the group never counts a
// dead member in its majority. ChildSpec runs a member under a supervisor.
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
// The membership operations name a member by PID or by registered name
// (which survives a restart); ReplaceLeader with nil cancels a transfer.
//
// A command whose Data.Command panics does not take members down: every
// member recovers the same panic on the same entry (also when it replays
// its log), and the command's result is an error matching
// ErrCommandPanicked. A command whose entry would not fit a frame between
// members (Options.MaxFrameSize) is refused with ErrCommandTooLarge.
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
// messages. A member with a Dir keeps its ID there. When the leader hears
// from a member at a new PID (it restarted) it writes the new address into
// the log, so every member's Status names it by its new PID.
//
// # Persistence
//
// With Options.Dir a member keeps its log, hard state and snapshots in
// files (fsync'd before it sends or applies anything; format in
// storage.go), so a group that loses every process restarts with every
// committed command: start each member again with the same Dir and Name.
// A torn write at the end of the log (a crash mid-write) is cut off; other
// damage (a corrupt record with valid ones after it, missing entries, an id
// whose log is gone) makes Start fail with ErrDamagedDir instead of
// bringing back a member that forgot what it acknowledged.
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
//     ticks. What a lease relies on is kept by each member on its own clock:
//     it grants no vote (except to a leadership transfer's candidate) within
//     an election timeout of a leader's last message or of its own start, so
//     a member that restarts cannot help elect a new leader while an old
//     lease runs. That timeout is the longest election timeout the member
//     has applied since it started, and a leader renews its lease only while
//     every voter holds the entry of its current config, and starts a new
//     lease when its config changes.
//   - ReplaceLeader(nil) cancels a transfer by asking etcd raft to transfer
//     to the leader itself; a transfer that fails ends after an election
//     timeout. While a transfer is pending the leader answers commands with
//     a NotLeaderError naming the new leader.
//   - ChangeConfig's new heartbeat interval applies at once; a new ratio of
//     election timeout to heartbeat interval applies to raft's election
//     timer when a member restarts (the vote guard above follows the new
//     election timeout at once).
//   - A member joins as a learner and is promoted once it has caught up
//     (RaftedValue adds it as a voter at once).
//   - Raft's appends are sized to fit Options.MaxFrameSize, and a snapshot
//     larger than a frame travels in chunks that the receiver puts together
//     before raft sees it.
//   - A command's result that is an error value is returned as Command's
//     error, and so is a panic in Data.Command (RaftedValue's member would
//     crash). Arguments and results must be wire values (see package wire).
//   - A command proposed by a leader that lost its leadership is answered if
//     its entry is still committed; otherwise its caller times out.
//   - Persistence goes beyond RaftedValue's in-memory members.
package rafted
