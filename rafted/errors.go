package rafted

import (
	"errors"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Sentinel errors. They are registered with the wire codec, so errors.Is
// matches them on the caller's node even when the member is on another node.
var (
	// ErrNotLeader: the member asked is not the leader. The error returned
	// is a NotLeaderError that carries the leader's PID when the member
	// knows it; errors.Is(err, ErrNotLeader) holds.
	ErrNotLeader = wire.MustRegisterError(errors.New("rafted: not leader"))
	// ErrTimeout: no answer before the context's deadline. It is
	// actor.ErrTimeout, so it matches context.DeadlineExceeded too.
	ErrTimeout = actor.ErrTimeout
	// ErrUncommittedMembershipChange: a membership change (or the new
	// leader's first entry) is not committed yet; try again shortly.
	ErrUncommittedMembershipChange = wire.MustRegisterError(errors.New("rafted: uncommitted membership change"))
	// ErrNotMember: the PID named is not a member of the group.
	ErrNotMember = wire.MustRegisterError(errors.New("rafted: not member"))
	// ErrPendingLeaderChange: a leadership transfer is in progress.
	ErrPendingLeaderChange = wire.MustRegisterError(errors.New("rafted: pending leader change"))
	// ErrCannotRemoveLeader: RemoveFollower was given the leader itself.
	ErrCannotRemoveLeader = wire.MustRegisterError(errors.New("rafted: cannot remove leader"))
	// ErrWillBreakQuorum: removing the follower would leave fewer responsive
	// members than the new group needs for a majority.
	ErrWillBreakQuorum = wire.MustRegisterError(errors.New("rafted: will break quorum"))
	// ErrNewLeaderUnresponsive: the member ReplaceLeader names has not been
	// heard from recently.
	ErrNewLeaderUnresponsive = wire.MustRegisterError(errors.New("rafted: new leader unresponsive"))
	// ErrLeaderExists: ForceRemoveMember was sent to a member that knows a
	// leader.
	ErrLeaderExists = wire.MustRegisterError(errors.New("rafted: leader exists"))
	// ErrJoin: a member could not join the group through any of the
	// members it was given.
	ErrJoin = wire.MustRegisterError(errors.New("rafted: cannot join group"))
	// ErrRemoved: the member was removed from its group (its exit reason).
	ErrRemoved = wire.MustRegisterError(errors.New("rafted: removed from group"))
	// ErrDamagedDir: a member's Dir is damaged (a corrupt log record,
	// entries missing, or a member ID whose log is gone); the member does
	// not start from it. A torn write at the end of the log is not damage:
	// it is cut off.
	ErrDamagedDir = wire.MustRegisterError(errors.New("rafted: damaged member directory"))
	// ErrCommandTooLarge: the command's log entry would not fit a frame
	// between members (Options.MaxFrameSize).
	ErrCommandTooLarge = wire.MustRegisterError(errors.New("rafted: command too large"))
	// ErrCommandPanicked: Data.Command panicked. Every member recovers the
	// same panic on the same entry, so the value stays the same everywhere
	// (as the command left it when it panicked); the command's result is an
	// error that wraps this one and carries the panic's value.
	ErrCommandPanicked = wire.MustRegisterError(errors.New("rafted: command panicked"))
)

// errCatchingUp: a joining member asked to be made a voter before it caught
// up with the leader's log; it asks again.
var errCatchingUp = wire.MustRegisterError(errors.New("rafted: joining member is catching up"))

// NotLeaderError is ErrNotLeader with the leader the member knows of (zero
// PID when it knows none). It is a value type so that it keeps its type
// across nodes (the wire codec decodes registered types as values).
type NotLeaderError struct {
	Leader actor.PID
}

func (e NotLeaderError) Error() string {
	if e.Leader.IsZero() {
		return ErrNotLeader.Error() + " (leader unknown)"
	}
	return ErrNotLeader.Error() + " (leader " + e.Leader.String() + ")"
}

// Is makes a NotLeaderError match ErrNotLeader.
func (e NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// leaderOf returns the leader a not-leader error names, if any.
func leaderOf(err error) (actor.PID, bool) {
	var nl NotLeaderError
	if errors.As(err, &nl) && !nl.Leader.IsZero() {
		return nl.Leader, true
	}
	return actor.PID{}, false
}
