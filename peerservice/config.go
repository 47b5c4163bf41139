package peerservice

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Topology chooses the shape of the cluster.
type Topology int

const (
	// FullMesh connects every member to every other member (the default).
	FullMesh Topology = iota
	// ClientServer connects servers to each other and clients to servers
	// only; clients reach each other through a server.
	ClientServer
)

func (t Topology) String() string {
	switch t {
	case FullMesh:
		return "full-mesh"
	case ClientServer:
		return "client-server"
	}
	return fmt.Sprintf("Topology(%d)", int(t))
}

// Role is a node's role in a client-server cluster. It travels to peers as
// the remote.NodeSpec tag "role".
type Role string

// Roles. In a full-mesh cluster every node is a Server.
const (
	Server Role = "server"
	Client Role = "client"
)

// RoleTag is the remote.NodeSpec tag that carries a node's Role.
const RoleTag = "role"

// ManagerName is the name the manager process registers on every node, so
// that managers of other nodes can send to it.
const ManagerName = "gotp_peer_service_manager"

// Config configures a node's peer service. The zero value works: a full-mesh
// member with a 1 s heartbeat that declares a peer failed after 3 missed
// heartbeats and gossips membership every second.
type Config struct {
	// Topology is FullMesh (default) or ClientServer.
	Topology Topology
	// Role is this node's role under ClientServer: Server (default) or Client.
	// Under FullMesh it must be empty or Server.
	Role Role
	// HeartbeatInterval is how often a node sends a heartbeat to each peer it
	// keeps a connection to. Default 1 s.
	HeartbeatInterval time.Duration
	// MissedHeartbeats is how many heartbeat intervals may pass without
	// hearing from a peer before it is considered failed. Default 3.
	MissedHeartbeats int
	// GossipInterval is how often membership is pushed to GossipFanout random
	// peers. Default 1 s.
	GossipInterval time.Duration
	// GossipFanout is how many peers each gossip round pushes to. Default 3.
	GossipFanout int
	// ReconnectBackoff is the first wait before probing a failed peer again;
	// the wait doubles up to MaxReconnectBackoff. Defaults: HeartbeatInterval
	// and 16 × HeartbeatInterval.
	ReconnectBackoff    time.Duration
	MaxReconnectBackoff time.Duration
	// RetransmitInterval is how often an acknowledged ForwardMessage is sent
	// again until its ack arrives. Default HeartbeatInterval.
	RetransmitInterval time.Duration
	// MaxRetransmits is how many times an acknowledged ForwardMessage is
	// sent again before the sender gives it up. Default 60.
	MaxRetransmits int
	// JoinTimeout bounds one attempt of an asynchronous Join. Default 5 s.
	JoinTimeout time.Duration
	// DataDir, when set, is a directory where membership is saved on every
	// change and from which it is restored at start.
	DataDir string
	// Reservations gives the number of slots Reserve hands out per tag.
	// Reserving an unknown tag or a tag whose slots are taken fails with
	// ErrNoAvailableSlots.
	Reservations map[string]int
	// OnMessage receives what other nodes' managers send with SendMessage. It
	// runs on the notification goroutine and must not block for long.
	OnMessage func(from string, msg any)
	// Seed seeds the choice of gossip targets; zero picks one from the
	// node's creation.
	Seed uint64
	// Logger receives the manager's logs. Default: the node's logger.
	Logger *slog.Logger
}

// Errors of the peer service.
var (
	// ErrNotYetConnected: the destination is neither a member nor connected.
	ErrNotYetConnected = errors.New("peerservice: not yet connected")
	// ErrPartitioned: an injected partition cuts traffic to the destination.
	ErrPartitioned = errors.New("peerservice: partitioned")
	// ErrNoServer: a client has no reachable server to relay through.
	ErrNoServer = errors.New("peerservice: no server reachable")
	// ErrNotImplemented: the operation is not supported by this manager.
	ErrNotImplemented = errors.New("peerservice: not implemented")
	// ErrNoAvailableSlots: Reserve found no free slot for the tag.
	ErrNoAvailableSlots = errors.New("peerservice: no available slots")
	// ErrUnknownPartition: ResolvePartition was given a reference this node
	// does not hold.
	ErrUnknownPartition = errors.New("peerservice: unknown partition")
	// ErrNoPolicy: Start was given a remote layer without this service's
	// Policy installed.
	ErrNoPolicy = errors.New("peerservice: remote layer has no peer service policy")
	// ErrRelayedDown: a node reached only through a server was found down
	// (by a server's failure detector, or because the server relaying to it
	// failed). Links, monitors and calls toward it fail with an error that
	// matches both this and actor.ErrNoConnection.
	ErrRelayedDown = errors.New("peerservice: relayed node down")
	// ErrStopped: the service is stopped.
	ErrStopped = errors.New("peerservice: stopped")
)

func (c Config) withDefaults(nodeLog *slog.Logger) Config {
	if c.Role == "" {
		c.Role = Server
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = time.Second
	}
	if c.MissedHeartbeats <= 0 {
		c.MissedHeartbeats = 3
	}
	if c.GossipInterval <= 0 {
		c.GossipInterval = time.Second
	}
	if c.GossipFanout <= 0 {
		c.GossipFanout = 3
	}
	if c.ReconnectBackoff <= 0 {
		c.ReconnectBackoff = c.HeartbeatInterval
	}
	if c.MaxReconnectBackoff <= 0 {
		c.MaxReconnectBackoff = 16 * c.HeartbeatInterval
	}
	if c.MaxReconnectBackoff < c.ReconnectBackoff {
		c.MaxReconnectBackoff = c.ReconnectBackoff
	}
	if c.RetransmitInterval <= 0 {
		c.RetransmitInterval = c.HeartbeatInterval
	}
	if c.MaxRetransmits <= 0 {
		c.MaxRetransmits = 60
	}
	if c.JoinTimeout <= 0 {
		c.JoinTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = nodeLog
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

func (c Config) validate() error {
	switch c.Topology {
	case FullMesh:
		if c.Role != Server {
			return fmt.Errorf("peerservice: role %q in a full-mesh cluster", c.Role)
		}
	case ClientServer:
		if c.Role != Server && c.Role != Client {
			return fmt.Errorf("peerservice: unknown role %q", c.Role)
		}
	default:
		return fmt.Errorf("peerservice: unknown topology %d", int(c.Topology))
	}
	for tag, n := range c.Reservations {
		if n < 0 {
			return fmt.Errorf("peerservice: reservation %q of %d slots", tag, n)
		}
	}
	return nil
}
