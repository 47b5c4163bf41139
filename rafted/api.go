package rafted

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// Member is a started member: its PID and the node it runs on.
type Member struct {
	PID  actor.PID
	Name string
	node *actor.Node
}

// Server names the member for the client functions.
func (m *Member) Server() Server { return m.PID }

// Start starts a member on node (RaftedValue.start_link). With opts.Create
// it makes a new group and is its leader when Start returns. With opts.Join
// it joins an existing group through the leader (a follower named in Join
// redirects to it) and returns once the membership change is committed and
// the new member has applied it. A member whose opts.Dir holds an earlier
// life resumes it instead. ctx bounds joining.
func Start(ctx context.Context, node *actor.Node, opts Options) (*Member, error) {
	pid, err := start(ctx, node, node, opts, func(b actor.Behavior, so ...actor.SpawnOption) (actor.PID, error) {
		return node.Spawn(b, so...)
	})
	if err != nil {
		return nil, err
	}
	return &Member{PID: pid, Name: opts.Name, node: node}, nil
}

// ChildSpec is a supervisor child spec for a member, started linked to the
// supervisor. It is Transient: a member that crashes is restarted, a member
// removed from its group (which exits normally, with ErrRemoved) is not.
// Every start uses opts: a member with a Dir resumes from it; without one, a
// restarted Join member joins again as a new member, and a restarted Create
// member would make a new group, so give members that create a group a Dir.
func ChildSpec(id string, opts Options) supervisor.ChildSpec {
	return supervisor.ChildSpec{
		ID:      id,
		Restart: supervisor.Transient,
		Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			ctx, cancel := context.WithTimeout(context.Background(), opts.withDefaults().JoinTimeout)
			defer cancel()
			return start(ctx, p.Node(), p, opts, func(b actor.Behavior, so ...actor.SpawnOption) (actor.PID, error) {
				return p.Spawn(b, append(so, actor.WithLink())...)
			})
		},
	}
}

func start(ctx context.Context, node *actor.Node, caller Caller, opts Options, spawn func(actor.Behavior, ...actor.SpawnOption) (actor.PID, error)) (actor.PID, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return actor.PID{}, err
	}
	var spawnOpts []actor.SpawnOption
	if opts.Name != "" {
		spawnOpts = append(spawnOpts, actor.WithName(opts.Name))
	}
	restored := false
	if opts.Dir != "" {
		d, st, err := openDisk(opts.Dir)
		if err != nil {
			return actor.PID{}, err
		}
		d.Close()
		restored = st.Found
	}
	if restored || opts.Create != nil {
		return spawn(actor.Server(&member{opts: opts}), spawnOpts...)
	}
	if len(opts.Join) == 0 {
		return actor.PID{}, errors.New("rafted: Options needs Create, Join or a Dir holding a member")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.JoinTimeout)
		defer cancel()
	}
	cfg, err := groupConfig(ctx, caller, opts.Join)
	if err != nil {
		return actor.PID{}, err
	}
	pid, err := spawn(actor.Server(&member{opts: opts, groupConfig: cfg}), spawnOpts...)
	if err != nil {
		return actor.PID{}, err
	}
	self := memberAddr{PID: pid}
	if opts.Name != "" {
		self.Name = actor.Name{Node: node.Name(), Name: opts.Name}
	}
	retry := cfg.withDefaults().HeartbeatInterval
	req := joinReq{ID: raftID(self), Addr: self}
	err = join(ctx, caller, opts.Join, req, retry)
	added := err == nil // as a learner
	if err == nil {
		req.Promote = true
		err = join(ctx, caller, opts.Join, req, retry)
	}
	if err == nil {
		// Return once the new member has applied its own promotion, so
		// that it can vote and be counted on.
		_, err = caller.Call(ctx, pid, awaitJoinedReq{Wait: true})
	}
	if err != nil {
		_ = node.Exit(pid, actor.Kill)
		if added {
			// Undo the addition, with a context of its own: ctx may be
			// over. A learner does not count in any majority, so its
			// removal commits while the group has one.
			uctx, cancel := context.WithTimeout(context.Background(), opts.JoinTimeout)
			if uerr := undoJoin(uctx, caller, opts.Join, pid, retry); uerr != nil {
				err = errors.Join(err, uerr)
			}
			cancel()
		}
		return actor.PID{}, fmt.Errorf("%w: %w", ErrJoin, err)
	}
	return pid, nil
}

// undoJoin removes a member that failed to join, through the leader, until
// it is removed, is no member, or ctx ends.
func undoJoin(ctx context.Context, caller Caller, servers []Server, pid actor.PID, retry time.Duration) error {
	var last error
	for ctx.Err() == nil {
		for _, target := range servers {
			for hops := 0; hops < 3; hops++ {
				_, err := call(ctx, caller, target, removeFollowerReq{Member: memberRef{PID: pid}})
				if err == nil || errors.Is(err, ErrNotMember) {
					return nil
				}
				last = err
				leader, ok := leaderOf(err)
				if !ok {
					break
				}
				target = leader
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
	return fmt.Errorf("rafted: undo the failed member's addition: %w", errors.Join(last, ctx.Err()))
}

func groupConfig(ctx context.Context, caller Caller, servers []Server) (Config, error) {
	var last error
	for _, s := range servers {
		r, err := call(ctx, caller, s, statusReq{})
		if err == nil {
			return r.(Status).Config, nil
		}
		last = err
	}
	return Config{}, fmt.Errorf("%w: no member answered: %w", ErrJoin, last)
}

// join asks the members in turn, following redirects to the leader, until
// one adds the new member or ctx ends.
func join(ctx context.Context, caller Caller, servers []Server, req joinReq, retry time.Duration) error {
	var last error
	for ctx.Err() == nil {
		for i := 0; i < len(servers); i++ {
			target := servers[i]
			for hops := 0; hops < 3; hops++ {
				_, err := call(ctx, caller, target, req)
				if err == nil {
					return nil
				}
				last = err
				leader, ok := leaderOf(err)
				if !ok {
					break
				}
				target = leader
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
	return fmt.Errorf("%w: %w", ErrJoin, errors.Join(last, ctx.Err()))
}

// Command runs a command on the leader (RaftedValue.command) and returns
// its result once it is committed and applied. A command with a non-empty
// id that the group already applied (and still remembers, see
// Config.MaxRetainedCommandResults) is not applied again: its first result
// is returned. Errors: NotLeaderError (matches ErrNotLeader) from a
// follower, ErrTimeout when ctx's deadline passes (the command may still be
// applied: retry with the same id), actor.ErrNoProc, or a result that is
// itself an error.
func Command(ctx context.Context, c Caller, s Server, arg any, id string) (any, error) {
	b, err := encodeValue(arg)
	if err != nil {
		return nil, err
	}
	return call(ctx, c, s, commandReq{Arg: b, ID: id})
}

// Query runs a read-only query on the leader (RaftedValue.query). It is
// linearizable: the leader answers at once while its lease holds (see
// Config.ElectionTimeoutClockDriftMargin), else after confirming its
// leadership with a majority (Raft's ReadIndex).
func Query(ctx context.Context, c Caller, s Server, arg any) (any, error) {
	b, err := encodeValue(arg)
	if err != nil {
		return nil, err
	}
	return call(ctx, c, s, queryReq{Arg: b})
}

// ChangeConfig replaces the group's configuration through the log, so every
// member takes it. A new heartbeat interval takes effect at once; a new
// ratio of election timeout to heartbeat interval when a member restarts.
func ChangeConfig(ctx context.Context, c Caller, s Server, cfg Config) error {
	return okCall(ctx, c, s, changeConfigReq{Config: cfg})
}

// RemoveFollower removes a follower through the leader. The follower is
// named by its PID or by its registered name (actor.Name with its node),
// which stays the same when it restarts. Errors, checked in this order:
// ErrNotLeader, ErrUncommittedMembershipChange, ErrNotMember,
// ErrPendingLeaderChange, ErrCannotRemoveLeader, ErrWillBreakQuorum.
func RemoveFollower(ctx context.Context, c Caller, s Server, follower actor.Dest) error {
	return okCall(ctx, c, s, removeFollowerReq{Member: refOf(follower)})
}

// ReplaceLeader hands leadership from the leader s to newLeader, named as
// for RemoveFollower (Raft's leadership transfer). It returns once the
// transfer has started; while it is pending the leader refuses commands
// with a NotLeaderError naming newLeader. A transfer that fails ends after
// an election timeout. A nil newLeader (or the zero PID) cancels a pending
// transfer (RaftedValue's replace_leader(nil)). Errors: ErrNotLeader,
// ErrUncommittedMembershipChange, ErrNotMember, ErrNewLeaderUnresponsive.
func ReplaceLeader(ctx context.Context, c Caller, s Server, newLeader actor.Dest) error {
	return okCall(ctx, c, s, replaceLeaderReq{Member: refOf(newLeader)})
}

// ForceRemoveMember tells s to forget member (named as for RemoveFollower),
// without consensus, to recover a group that lost its majority. It is
// unsafe (committed entries may be lost) and refused with ErrLeaderExists
// while s knows a leader. The change is not propagated: tell every
// surviving member.
func ForceRemoveMember(ctx context.Context, c Caller, s Server, member actor.Dest) error {
	return okCall(ctx, c, s, forceRemoveReq{Member: refOf(member)})
}

// GetStatus returns what member s knows of its group (RaftedValue.status).
func GetStatus(ctx context.Context, c Caller, s Server) (Status, error) {
	r, err := call(ctx, c, s, statusReq{})
	if err != nil {
		return Status{}, err
	}
	return r.(Status), nil
}

func okCall(ctx context.Context, c Caller, s Server, req any) error {
	_, err := call(ctx, c, s, req)
	return err
}
