package ensemble

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gotp-dev/gotp/internal/raftchunk"
	"github.com/gotp-dev/gotp/remote/transport"
)

// Default values of Config, riak_ensemble's.
const (
	DefaultTick            = 500 * time.Millisecond
	DefaultLease           = 750 * time.Millisecond
	DefaultFollowerTimeout = 3 * time.Second
	DefaultRouterPoolSize  = 7
	DefaultMaxHops         = 4
	DefaultSnapshotEvery   = 10000
	DefaultRootMembers     = 5
)

// ReadMode says how a leader answers KGet.
type ReadMode int

const (
	// LeaseRead (the default, riak's trust_lease true) answers on the
	// leader while its lease holds, and through ReadIndex otherwise.
	LeaseRead ReadMode = iota
	// QuorumRead (trust_lease false) confirms the leadership with a
	// majority for every read (Raft's ReadIndex).
	QuorumRead
)

// Config configures the ensemble service of one node. The zero value means
// every default.
type Config struct {
	// Tick is the period of the node's one ticker, which drives every
	// local peer that is not quiescent: Raft heartbeats go out once a tick.
	// Default 500 ms (riak's ensemble_tick).
	Tick time.Duration
	// Lease is how long a leader answers reads locally after a majority
	// acknowledged one of its heartbeats. It must stay below
	// FollowerTimeout: followers vote for no one else within that.
	// Default 750 ms.
	Lease time.Duration
	// FollowerTimeout is how long a follower waits for its leader before
	// it stands for election (Raft's election timeout), rounded up to
	// whole ticks. Default 3 s.
	FollowerTimeout time.Duration
	// ReadMode is LeaseRead (default) or QuorumRead.
	ReadMode ReadMode
	// RouterPoolSize is how many router processes the node runs (riak
	// hard-codes 7). Default 7.
	RouterPoolSize int
	// MaxHops bounds how often a request is forwarded between nodes before
	// it fails with ErrTimeout, so stale leader caches cannot bounce it
	// for ever. Default 4.
	MaxHops int
	// DataDir is the directory under which backends keep their files (a
	// subdirectory per ensemble). Default: none (memory backends only).
	DataDir string
	// Backends adds backends by name, for CreateEnsemble; MemoryBackend
	// and FileBackend (which needs DataDir) are built in.
	Backends map[string]NewBackend
	// SnapshotEvery is how many applied entries a peer keeps in its Raft
	// log before it snapshots its backend and drops them. Default 10000.
	SnapshotEvery int
	// RootMembers is how many nodes of the cluster host a peer of the root
	// ensemble, which holds the cluster state: the first nodes to join
	// (the one that enabled the cluster first), and another in place of
	// one removed. Default 5: the root then survives two lost nodes.
	RootMembers int
	// MaxFrameSize is the largest message the distribution carries between
	// nodes: set it to remote.Config.MaxFrameSize. A write whose log entry
	// would not fit a frame is refused (ErrTooLarge), raft packs appends to
	// fit one, the manager sends a node's messages in as many frames as
	// they fill, and a larger snapshot travels in pieces. Default
	// transport.DefaultMaxFrameSize; at least 4 KiB.
	MaxFrameSize int
	// MaxSnapshotSize caps what a peer gathers of a snapshot sent to it in
	// pieces (over every sender at once); a larger one is refused, and the
	// peer cannot catch up from it. Default 1 GiB.
	MaxSnapshotSize int
	// Logger gets the service's logs. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	if c.FollowerTimeout == 0 {
		c.FollowerTimeout = DefaultFollowerTimeout
	}
	if c.RouterPoolSize == 0 {
		c.RouterPoolSize = DefaultRouterPoolSize
	}
	if c.MaxHops == 0 {
		c.MaxHops = DefaultMaxHops
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	if c.RootMembers == 0 {
		c.RootMembers = DefaultRootMembers
	}
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = transport.DefaultMaxFrameSize
	}
	if c.MaxSnapshotSize == 0 {
		c.MaxSnapshotSize = raftchunk.DefaultMax
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	backends := map[string]NewBackend{MemoryBackend: NewMemoryBackend, FileBackend: NewFileBackend}
	for name, nb := range c.Backends {
		backends[name] = nb
	}
	c.Backends = backends
	return c
}

func (c Config) validate() error {
	switch {
	case c.Tick < 0 || c.Lease < 0 || c.FollowerTimeout < 0:
		return errors.New("ensemble: negative duration in Config")
	case c.FollowerTimeout < 2*c.Tick:
		return fmt.Errorf("ensemble: follower timeout %v must be at least two ticks of %v", c.FollowerTimeout, c.Tick)
	case c.Lease >= c.FollowerTimeout:
		return fmt.Errorf("ensemble: lease %v must be below the follower timeout %v", c.Lease, c.FollowerTimeout)
	case c.MaxFrameSize < 4<<10:
		return fmt.Errorf("ensemble: MaxFrameSize %d below 4 KiB", c.MaxFrameSize)
	case c.ReadMode != LeaseRead && c.ReadMode != QuorumRead:
		return fmt.Errorf("ensemble: unknown ReadMode %d", c.ReadMode)
	case c.RouterPoolSize < 0 || c.MaxHops < 0 || c.SnapshotEvery < 0 || c.RootMembers < 0 || c.MaxSnapshotSize < 0:
		return errors.New("ensemble: negative count in Config")
	}
	for name, nb := range c.Backends {
		if nb == nil {
			return fmt.Errorf("ensemble: backend %q has no constructor", name)
		}
	}
	return nil
}

// electionTicks is the follower timeout in ticks (at least 2).
func (c Config) electionTicks() int {
	n := int((c.FollowerTimeout + c.Tick - 1) / c.Tick)
	return max(n, 2)
}

// silence is how long a node may go unheard before the node's quiescent
// peers with members there wake up.
func (c Config) silence() time.Duration { return 3 * c.Tick }

// frameHeadroom is what a frame holds besides a log entry's or a snapshot
// piece's bytes: the batch's and the envelope's headers, raft's message.
const frameHeadroom = 1024

// maxMessage is how many bytes of entries or snapshot one message to a
// peer may carry.
func (c Config) maxMessage() int { return c.MaxFrameSize - frameHeadroom }
