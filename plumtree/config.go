package plumtree

import (
	"fmt"
	"io"
	"log/slog"
	"time"
)

// ServerName is the name the broadcast server registers on its node (and
// the name servers of other nodes send to), unless Config.Name says another.
const ServerName = "gotp_plumtree_broadcast"

// Config configures a broadcast server. The zero value works: lazy pushes
// flushed every second, an exchange considered every ten seconds, peers
// picked by riak_core's rule from the peer service's membership, and no
// handlers (add them in Handlers).
type Config struct {
	// Name is the registered name of the server. Default ServerName. Every
	// node of a cluster must use the same one.
	Name string
	// LazyTickPeriod is how often unacknowledged lazy pushes (IHave) are
	// sent. Default 1 s.
	LazyTickPeriod time.Duration
	// ExchangeTickPeriod is how often an anti-entropy exchange is
	// considered. Default 10 s.
	ExchangeTickPeriod time.Duration
	// Handlers are the handlers broadcasts may name; each must have a
	// distinct Name. Exchanges go through them in turn.
	Handlers []Handler
	// Members, Eagers and Lazys are the initial membership and the initial
	// eager and lazy peers of every tree (the seed's start_link/5). With
	// Members nil the membership is asked of the peer service at start; with
	// Eagers and Lazys nil they are picked by InitPeers.
	Members, Eagers, Lazys []string
	// ExchangeSelection picks exchange peers (default ExchangeOptimized).
	ExchangeSelection ExchangeSelection
	// StartExchangeLimit bounds the exchanges this node runs at once.
	// Default 1.
	StartExchangeLimit int
	// LazyMode, GraftTimeout, GraftRetryTimeout and OptimizationThreshold
	// are the paper's options; see CoreConfig. All off by default.
	LazyMode              LazyMode
	GraftTimeout          time.Duration
	GraftRetryTimeout     time.Duration
	OptimizationThreshold int
	// NoMembershipUpdates leaves the server's membership to Update calls
	// alone instead of following the peer service's membership events.
	NoMembershipUpdates bool
	// CallTimeout bounds the server's own calls to the peer service at
	// start. Default 5 s.
	CallTimeout time.Duration
	// Seed seeds the random choices of the core (mixed with the node name).
	Seed uint64
	// Logger receives the server's logs. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = ServerName
	}
	if c.LazyTickPeriod == 0 {
		c.LazyTickPeriod = time.Second
	}
	if c.ExchangeTickPeriod == 0 {
		c.ExchangeTickPeriod = 10 * time.Second
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

func (c Config) validate() error {
	if c.LazyTickPeriod < 0 || c.ExchangeTickPeriod < 0 || c.CallTimeout < 0 {
		return fmt.Errorf("%w: negative period", ErrInvalidConfig)
	}
	seen := map[string]bool{}
	for _, h := range c.Handlers {
		if h == nil || h.Name() == "" {
			return fmt.Errorf("%w: handler without a name", ErrInvalidConfig)
		}
		if seen[h.Name()] {
			return fmt.Errorf("%w: two handlers named %q", ErrInvalidConfig, h.Name())
		}
		seen[h.Name()] = true
	}
	return c.coreConfig().withDefaults().validate()
}

func (c Config) coreConfig() CoreConfig {
	cc := CoreConfig{
		Eagers:                c.Eagers,
		Lazys:                 c.Lazys,
		ExchangeSelection:     c.ExchangeSelection,
		StartExchangeLimit:    c.StartExchangeLimit,
		LazyMode:              c.LazyMode,
		GraftTimeout:          c.GraftTimeout,
		GraftRetryTimeout:     c.GraftRetryTimeout,
		OptimizationThreshold: c.OptimizationThreshold,
		Seed:                  c.Seed,
	}
	for _, h := range c.Handlers {
		cc.Handlers = append(cc.Handlers, h.Name())
	}
	return cc
}
