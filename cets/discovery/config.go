package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// DefaultName is the name the discovery process registers under when
// Config.Name is empty. Discovery processes of other nodes send to it.
const DefaultName = "cets_discovery"

// Errors of the discovery package.
var (
	// ErrConfig: a Config (or a backend's settings) is invalid.
	ErrConfig = errors.New("discovery: invalid config")
	// ErrTimeout: a wait or call did not finish before its context's
	// deadline. It matches context.DeadlineExceeded too.
	ErrTimeout error = timeoutError{}
	// ErrNoNetwork: discovery was started without a Network and cannot
	// connect to the nodes it finds.
	ErrNoNetwork = errors.New("discovery: no network to connect through")
	// ErrStopped: the discovery process is not running.
	ErrStopped = errors.New("discovery: stopped")
)

type timeoutError struct{}

func (timeoutError) Error() string        { return "discovery: timeout" }
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Config configures a discovery process. The zero value works: a process
// named DefaultName that finds no nodes (an empty static list), tracks no
// tables and connects nowhere; set Backend, Tables (or AddTable) and Network
// to make it useful.
type Config struct {
	// Name is the registered name of the process. Default DefaultName.
	// Every node of a cluster must use the same one: discovery processes
	// exchange start times and status through it.
	Name string
	// Backend finds the nodes. Default: an empty static list.
	Backend Backend
	// Tables are the tables to join from the start; AddTable adds more.
	Tables []string
	// Joiner joins a local table with the same table on another node and
	// reports a table's nodes. Default: TablesJoiner, for package cets's
	// tables with default join options.
	Joiner Joiner
	// Network connects to the nodes found and reports nodes up and down
	// (RemoteNetwork, PeerServiceNetwork). Without it discovery connects to
	// nothing and sees no other node.
	Network Network

	// RetryAfterError is the wait before calling the backend again after it
	// failed. Default 1 s.
	RetryAfterError time.Duration
	// RetryInitial is the wait between backend calls during the initial
	// phase. Default 5 s.
	RetryInitial time.Duration
	// RetryRegular is the wait between backend calls after the initial
	// phase. Default 5 min.
	RetryRegular time.Duration
	// RetryAfterNodeDown is the wait between backend calls while a node went
	// down less than NodeDownWindow ago, so a netsplit heals soon but not
	// at once. Default 30 s.
	RetryAfterNodeDown time.Duration
	// NodeDownWindow is how long after a node down RetryAfterNodeDown
	// applies. Default RetryAfterNodeDown.
	NodeDownWindow time.Duration
	// InitialPhase is how long the initial phase lasts at most; it ends
	// earlier when the discovery process of another node makes contact.
	// Default 5 min.
	InitialPhase time.Duration
	// ConnectTimeout bounds one attempt to connect to a node found (CETS's
	// ping). Default 7 s, net_kernel's connect timeout.
	ConnectTimeout time.Duration
	// ConnectDelay is how long a node waits before it dials a node found
	// whose name is smaller than its own, which dials it first; it dials
	// only if no connection came up meanwhile. Default 1 s; negative dials
	// at once.
	ConnectDelay time.Duration
	// GetNodesTimeout bounds one backend call; zero means no bound (as in
	// CETS; the call still ends when the process stops).
	GetNodesTimeout time.Duration
	// JoinTimeout bounds one table join; zero means no bound.
	JoinTimeout time.Duration

	// Logger receives discovery's logs. Default: the node's logger.
	Logger *slog.Logger
}

func (c Config) withDefaults(nodeLogger *slog.Logger) Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Backend == nil {
		c.Backend = &StaticBackend{}
	}
	if c.Network == nil {
		c.Network = noNetwork{}
	}
	if c.RetryAfterError == 0 {
		c.RetryAfterError = time.Second
	}
	if c.RetryInitial == 0 {
		c.RetryInitial = 5 * time.Second
	}
	if c.RetryRegular == 0 {
		c.RetryRegular = 5 * time.Minute
	}
	if c.RetryAfterNodeDown == 0 {
		c.RetryAfterNodeDown = 30 * time.Second
	}
	if c.NodeDownWindow == 0 {
		c.NodeDownWindow = c.RetryAfterNodeDown
	}
	if c.InitialPhase == 0 {
		c.InitialPhase = 5 * time.Minute
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 7 * time.Second
	}
	if c.ConnectDelay == 0 {
		c.ConnectDelay = time.Second
	}
	if c.Logger == nil {
		c.Logger = nodeLogger
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

func (c Config) validate() error {
	for name, d := range map[string]time.Duration{
		"RetryAfterError": c.RetryAfterError, "RetryInitial": c.RetryInitial,
		"RetryRegular": c.RetryRegular, "RetryAfterNodeDown": c.RetryAfterNodeDown,
		"NodeDownWindow": c.NodeDownWindow, "InitialPhase": c.InitialPhase,
		"ConnectTimeout": c.ConnectTimeout,
	} {
		if d < 0 {
			return fmt.Errorf("%w: %s is negative", ErrConfig, name)
		}
	}
	if c.GetNodesTimeout < 0 || c.JoinTimeout < 0 {
		return fmt.Errorf("%w: negative timeout", ErrConfig)
	}
	for _, t := range c.Tables {
		if t == "" {
			return fmt.Errorf("%w: empty table name", ErrConfig)
		}
	}
	return nil
}
