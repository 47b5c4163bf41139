package ensemble

import (
	"errors"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
)

// Sentinel errors, registered with the wire codec so that errors.Is
// matches them on the caller's node when the peer is on another.
var (
	// ErrFailed: the operation's condition does not hold (riak's failed):
	// KUpdate or KSafeDelete with a version the key no longer has,
	// KPutOnce on a key that holds a value.
	ErrFailed = wire.MustRegisterError(errors.New("ensemble: failed"))
	// ErrTimeout: no answer before the deadline, and also every way a
	// request can fail to reach a leader (riak's timeout): no leader known,
	// a peer that is not the leader (nack), a node that cannot be reached,
	// too many hops. It is actor.ErrTimeout, so it matches
	// context.DeadlineExceeded too.
	ErrTimeout = actor.ErrTimeout
	// ErrUnavailable: the ensemble is not known on this node, or the
	// ensemble service is not running here (riak's unavailable).
	ErrUnavailable = wire.MustRegisterError(errors.New("ensemble: unavailable"))
	// ErrNoDeadline: a call to an ensemble without a deadline in its
	// context; riak refuses an infinite timeout the same way.
	ErrNoDeadline = errors.New("ensemble: call without a deadline (give ctx a deadline)")
	// ErrAlreadyMember: UpdateMembers adds a node that is a member.
	ErrAlreadyMember = wire.MustRegisterError(errors.New("ensemble: already_member"))
	// ErrNotMember: UpdateMembers removes a node that is not a member.
	ErrNotMember = wire.MustRegisterError(errors.New("ensemble: not_member"))
	// ErrNotInCluster: UpdateMembers adds a node that is not in the cluster.
	ErrNotInCluster = wire.MustRegisterError(errors.New("ensemble: not_in_cluster"))
	// ErrExists: CreateEnsemble of an id that is taken.
	ErrExists = wire.MustRegisterError(errors.New("ensemble: ensemble exists"))
	// ErrDamagedDir: a peer's Raft state under Config.DataDir is damaged (a
	// corrupt record a valid one follows, a member ID without its log):
	// the peer does not start rather than come back having forgotten what
	// it acknowledged.
	ErrDamagedDir = wire.MustRegisterError(errors.New("ensemble: damaged peer directory"))
	// ErrOtherCluster: a node of another cluster (another cluster id).
	ErrOtherCluster = wire.MustRegisterError(errors.New("ensemble: node of another cluster"))
	// ErrNotEnabled: the operation needs a cluster (Enable or Join first).
	ErrNotEnabled = wire.MustRegisterError(errors.New("ensemble: cluster not enabled"))
	// ErrTooLarge: a write whose log entry would not fit one frame
	// (Config.MaxFrameSize), so that the leader could never send it.
	ErrTooLarge = wire.MustRegisterError(errors.New("ensemble: write larger than a frame"))
)
