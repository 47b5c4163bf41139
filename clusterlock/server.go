package clusterlock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/remote/wire"
	"github.com/gotp-dev/gotp/supervisor"
)

// DefaultName is the name lock servers are registered under.
const DefaultName = "gotp.clusterlock"

// Errors of the package, checked with errors.Is.
var (
	// ErrTimeout: the lock was not acquired before the context's deadline.
	// It matches context.DeadlineExceeded and actor.ErrTimeout too.
	ErrTimeout error = timeoutError{}
	// ErrWithdrawn: a waiting request was withdrawn (its holder released it or
	// died) before it was granted.
	ErrWithdrawn = errors.New("clusterlock: request withdrawn")
	// ErrNoNodes: Acquire was given no nodes.
	ErrNoNodes = errors.New("clusterlock: no nodes")
	// ErrNoHolder: Acquire was given the zero PID as holder.
	ErrNoHolder = errors.New("clusterlock: no holder")
)

type timeoutError struct{}

func (timeoutError) Error() string { return "clusterlock: timeout" }
func (timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == actor.ErrTimeout
}

// Messages to the lock server. They cross nodes, so they are registered
// with the wire codec.
type setReq struct {
	ID     string
	Holder actor.PID
}

type releaseReq struct {
	ID     string
	Holder actor.PID
}

type infoReq struct{}

func init() {
	wire.MustRegister[setReq]("gotp.clusterlock.set")
	wire.MustRegister[releaseReq]("gotp.clusterlock.release")
	wire.MustRegister[infoReq]("gotp.clusterlock.info")
	wire.MustRegister[LockInfo]("gotp.clusterlock.lockinfo")
	if err := wire.RegisterError(ErrWithdrawn); err != nil {
		panic(err)
	}
}

// Config configures a lock server. The zero value works.
type Config struct {
	// Name is the name the server registers under. Default DefaultName.
	// Every node of a cluster must use the same name, and Locks.Name must
	// match it.
	Name string
	// Logger receives the server's logs. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

func (c Config) validate() error { return nil }

// Server is the handle of one node's lock server.
type Server struct {
	node *actor.Node
	pid  actor.PID
	name string
}

// PID returns the server's process.
func (s *Server) PID() actor.PID { return s.pid }

// Info lists the locks this node's server knows of, by ID.
func (s *Server) Info(ctx context.Context) ([]LockInfo, error) {
	return Info(ctx, s.node, s.node.Name(), s.name)
}

// Info lists the locks the server named name on node knows of.
func Info(ctx context.Context, c actor.Caller, node, name string) ([]LockInfo, error) {
	v, err := c.Call(ctx, actor.Name{Node: node, Name: name}, infoReq{})
	if err != nil {
		return nil, err
	}
	list, _ := v.([]any)
	out := make([]LockInfo, 0, len(list))
	for _, e := range list {
		if li, ok := e.(LockInfo); ok {
			out = append(out, li)
		}
	}
	return out, nil
}

// Start starts a lock server on node, registered under cfg.Name.
func Start(node *actor.Node, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	pid, err := node.Spawn(actor.Server(newServer(cfg)), actor.WithName(cfg.Name))
	if err != nil {
		return nil, fmt.Errorf("clusterlock: start: %w", err)
	}
	return &Server{node: node, pid: pid, name: cfg.Name}, nil
}

// ChildSpec is the supervisor child spec of a lock server (Permanent: a
// restarted server starts with no locks, and the holders it granted must
// acquire again).
func ChildSpec(id string, cfg Config) supervisor.ChildSpec {
	cfg = cfg.withDefaults()
	return supervisor.Worker(id, func() actor.GenServer { return newServer(cfg) }, actor.WithName(cfg.Name))
}

// server is the gen_server shell around core.
type server struct {
	cfg      Config
	core     *core
	monitors map[actor.PID]actor.Ref
	holders  map[actor.Ref]actor.PID
}

func newServer(cfg Config) *server {
	return &server{cfg: cfg, core: newCore(), monitors: map[actor.PID]actor.Ref{}, holders: map[actor.Ref]actor.PID{}}
}

func (s *server) HandleCall(p *actor.Process, from actor.From, req any) (any, error) {
	switch r := req.(type) {
	case setReq:
		if r.Holder.IsZero() {
			return ErrNoHolder, nil
		}
		s.apply(p, s.core.set(from, r.ID, r.Holder))
		return actor.NoReply, nil
	case releaseReq:
		s.apply(p, s.core.release(r.ID, r.Holder))
		return true, nil
	case infoReq:
		infos := s.core.info()
		out := make([]any, len(infos))
		for i, li := range infos {
			out[i] = li
		}
		return out, nil
	}
	return nil, fmt.Errorf("clusterlock: unknown request %T", req)
}

func (s *server) HandleInfo(p *actor.Process, msg any) error {
	if d, ok := msg.(actor.DownMessage); ok {
		holder, known := s.holders[d.Ref]
		if !known {
			return nil
		}
		delete(s.holders, d.Ref)
		delete(s.monitors, holder)
		s.cfg.Logger.Debug("lock holder down", "holder", holder.String(), "reason", d.Reason)
		s.apply(p, s.core.down(holder))
	}
	return nil
}

func (s *server) apply(p *actor.Process, effs []effect) {
	for _, e := range effs {
		switch e.kind {
		case effGrant:
			_ = p.Reply(e.from, true)
		case effRefuse:
			_ = p.Reply(e.from, ErrWithdrawn)
		case effMonitor:
			ref := p.Monitor(e.pid)
			s.monitors[e.pid] = ref
			s.holders[ref] = e.pid
		case effDemonitor:
			if ref, ok := s.monitors[e.pid]; ok {
				p.Demonitor(ref)
				delete(s.monitors, e.pid)
				delete(s.holders, ref)
			}
		}
	}
}
