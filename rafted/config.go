package rafted

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gotp-dev/gotp/internal/raftchunk"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Default values of Config, as RaftedValue's.
const (
	DefaultHeartbeatInterval         = 200 * time.Millisecond
	DefaultElectionTimeout           = 1000 * time.Millisecond
	DefaultMaxRetainedCommittedLogs  = 100
	DefaultMaxRetainedCommandResults = 100
)

// Config is the group's configuration. It is replicated: the creating member
// writes it into the log, joining members learn it from there, and
// ChangeConfig replaces it on every member. The zero value means every
// default.
type Config struct {
	// HeartbeatInterval is how often the leader sends heartbeats; it is also
	// the member's tick. Default 200 ms.
	HeartbeatInterval time.Duration
	// ElectionTimeout is how long a follower waits without hearing from a
	// leader before it stands for election; each member picks its actual
	// timeout at random between ElectionTimeout and twice that. It is rounded
	// up to a whole number of heartbeat intervals. Default 1000 ms.
	ElectionTimeout time.Duration
	// ElectionTimeoutClockDriftMargin turns on leader leases when it is
	// below ElectionTimeout: once a majority has acknowledged a heartbeat
	// sent at time t, the leader answers queries locally until
	// t + ElectionTimeout - margin - HeartbeatInterval (the last term
	// because followers count the election timeout in ticks). Zero (the
	// default) means ElectionTimeout: no lease, every query goes through
	// raft's ReadIndex.
	ElectionTimeoutClockDriftMargin time.Duration
	// MaxRetainedCommittedLogs is how many committed entries a member keeps
	// behind its latest snapshot; a snapshot is taken each time that many
	// more have been applied, and a follower further behind is sent the
	// snapshot. Default 100.
	MaxRetainedCommittedLogs int
	// MaxRetainedCommandResults is how many command results (by command id)
	// the replicated state keeps to answer repeated commands. Default 100.
	MaxRetainedCommandResults int
}

func (c Config) withDefaults() Config {
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = DefaultElectionTimeout
	}
	if c.ElectionTimeoutClockDriftMargin == 0 {
		c.ElectionTimeoutClockDriftMargin = c.ElectionTimeout
	}
	if c.MaxRetainedCommittedLogs == 0 {
		c.MaxRetainedCommittedLogs = DefaultMaxRetainedCommittedLogs
	}
	if c.MaxRetainedCommandResults == 0 {
		c.MaxRetainedCommandResults = DefaultMaxRetainedCommandResults
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.HeartbeatInterval < 0 || c.ElectionTimeout < 0 || c.ElectionTimeoutClockDriftMargin < 0:
		return errors.New("rafted: negative duration in Config")
	case c.ElectionTimeout <= c.HeartbeatInterval:
		return fmt.Errorf("rafted: election timeout %v must exceed heartbeat interval %v", c.ElectionTimeout, c.HeartbeatInterval)
	case c.MaxRetainedCommittedLogs < 0 || c.MaxRetainedCommandResults < 0:
		return errors.New("rafted: negative retention in Config")
	}
	return nil
}

// electionTicks is the election timeout in heartbeat ticks (at least 2).
func (c Config) electionTicks() int {
	n := int((c.ElectionTimeout + c.HeartbeatInterval - 1) / c.HeartbeatInterval)
	return max(n, 2)
}

// lease is how long a leader may answer locally after a majority
// acknowledged a heartbeat; zero when leases are off.
func (c Config) lease() time.Duration {
	d := c.ElectionTimeout - c.ElectionTimeoutClockDriftMargin - c.HeartbeatInterval
	if c.ElectionTimeoutClockDriftMargin >= c.ElectionTimeout || d <= 0 {
		return 0
	}
	return d
}

// Options starts one member.
type Options struct {
	// NewData makes the member's empty value (RaftedValue's Data.new). It is
	// called once at start and the value is then replaced by snapshots.
	// Required.
	NewData func() Data
	// Create, when set, makes a new group with this member as its only
	// member and leader. Exactly one of Create and Join must be given unless
	// Dir holds an earlier life of the member.
	Create *Config
	// Join lists members of an existing group to join through; a follower
	// redirects to the leader.
	Join []Server
	// Name registers the member under this name on its node. Needed for a
	// member whose Dir must outlive its process: peers reach it by name after
	// it restarts with a new PID.
	Name string
	// Hook receives leader events. Default: none.
	Hook LeaderHook
	// Dir, when set, is where the member keeps its log, hard state and
	// snapshots (fsync'd). A member started on a Dir that holds state
	// resumes it and ignores Create and Join.
	Dir string
	// JoinTimeout bounds joining when Start's ctx has no deadline. Default 5 s.
	JoinTimeout time.Duration
	// Logger gets the member's logs. Default: discard.
	Logger *slog.Logger
	// MaxFrameSize is the largest message the distribution carries between
	// members' nodes: set it to remote.Config.MaxFrameSize. A command whose
	// log entry would not fit a frame is refused (ErrCommandTooLarge), raft
	// packs appends to fit one, and a larger snapshot travels in chunks.
	// Default transport.DefaultMaxFrameSize; at least 4 KiB.
	MaxFrameSize int
	// MaxSnapshotSize caps what a member gathers of a snapshot sent to it
	// in chunks (over every sender at once); a larger one is refused, and
	// the member cannot catch up from it. Default 1 GiB.
	MaxSnapshotSize int
}

func (o Options) withDefaults() Options {
	if o.JoinTimeout == 0 {
		o.JoinTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.MaxFrameSize == 0 {
		o.MaxFrameSize = transport.DefaultMaxFrameSize
	}
	if o.MaxSnapshotSize == 0 {
		o.MaxSnapshotSize = raftchunk.DefaultMax
	}
	return o
}

// frameHeadroom is what a frame holds besides a log entry's or a snapshot
// chunk's bytes: the envelope, the sender's address and raft's message.
const frameHeadroom = 1024

// maxMessage is how many bytes of entries or snapshot a message to a peer
// may carry.
func (o Options) maxMessage() int { return o.MaxFrameSize - frameHeadroom }

func (o Options) validate() error {
	switch {
	case o.NewData == nil:
		return errors.New("rafted: Options.NewData is required")
	case o.Create != nil && len(o.Join) > 0:
		return errors.New("rafted: Options.Create and Options.Join are exclusive")
	case o.MaxFrameSize < 4<<10:
		return fmt.Errorf("rafted: Options.MaxFrameSize %d below 4 KiB", o.MaxFrameSize)
	case o.MaxSnapshotSize < 0:
		return fmt.Errorf("rafted: Options.MaxSnapshotSize %d is negative", o.MaxSnapshotSize)
	}
	if o.Create != nil {
		return o.Create.withDefaults().validate()
	}
	return nil
}
