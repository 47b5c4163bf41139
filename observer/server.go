package observer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/supervisor"
)

// DefaultAddr is where Start listens when given an empty address: a port
// the system picks, on loopback.
const DefaultAddr = "127.0.0.1:0"

// shutdownGrace is how long a stopping server waits for requests in
// progress before it closes their connections.
const shutdownGrace = 2 * time.Second

// Server is a running observer: a process that owns an http.Server
// serving the observer's Handler. Its methods are safe for concurrent use.
type Server struct {
	obs  *Observer
	node *actor.Node
	addr string

	mu      sync.Mutex
	pid     actor.PID
	current net.Addr
}

// Start starts an observer of node serving HTTP on addr (DefaultAddr when
// empty) as an unsupervised process; use ChildSpec to run it in a
// supervision tree. An address that is not loopback is refused with
// ErrInsecureBind unless opts has a Token or a TLS config that requires
// and verifies client certificates.
func Start(node *actor.Node, addr string, opts Options) (*Server, error) {
	s, err := newServer(node, addr, opts)
	if err != nil {
		return nil, err
	}
	pid, err := node.Spawn(actor.Server(&owner{s: s}))
	if err != nil {
		return nil, err
	}
	s.setPID(pid)
	return s, nil
}

// ChildSpec returns the spec of a worker child that runs the observer,
// and the Server handle whose Addr follows it through restarts. It checks
// the address and the options as Start does.
func ChildSpec(id string, node *actor.Node, addr string, opts Options) (supervisor.ChildSpec, *Server, error) {
	s, err := newServer(node, addr, opts)
	if err != nil {
		return supervisor.ChildSpec{}, nil, err
	}
	spec := supervisor.ChildSpec{
		ID:       id,
		Shutdown: shutdownGrace + time.Second,
		Start: func(p *actor.Process, _ ...any) (actor.PID, error) {
			pid, err := p.Spawn(actor.Server(&owner{s: s}), actor.WithLink(), actor.WithTrapExit())
			if err == nil {
				s.setPID(pid)
			}
			return pid, err
		},
	}
	return spec, s, nil
}

func newServer(node *actor.Node, addr string, opts Options) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if err := checkBind(addr, opts); err != nil {
		return nil, err
	}
	o, err := New(node, opts)
	if err != nil {
		return nil, err
	}
	return &Server{obs: o, node: node, addr: addr}, nil
}

// checkBind refuses an unauthenticated observer on an address other
// machines can reach.
func checkBind(addr string, opts Options) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: address %q: %v", ErrInvalidOptions, addr, err)
	}
	if opts.Token != "" || (opts.TLS != nil && opts.TLS.ClientAuth == tls.RequireAndVerifyClientCert) {
		return nil
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInsecureBind, addr)
}

func (s *Server) setPID(pid actor.PID) {
	s.mu.Lock()
	s.pid = pid
	s.mu.Unlock()
}

// PID returns the process that owns the HTTP server (its latest start).
func (s *Server) PID() actor.PID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid
}

// Observer returns the observer the server serves.
func (s *Server) Observer() *Observer { return s.obs }

// Addr returns the address the server listens on now ("" while it is not
// listening).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil {
		return ""
	}
	return s.current.String()
}

// URL returns the server's base URL, e.g. http://127.0.0.1:4000/.
func (s *Server) URL() string {
	scheme := "http"
	if s.obs.opts.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + s.Addr() + "/"
}

// Stop stops the server's process (and so the HTTP server) and returns
// when it is gone. For a server started by ChildSpec, stop it through its
// supervisor instead.
func (s *Server) Stop(ctx context.Context) error {
	err := s.node.StopProcess(ctx, s.PID(), actor.Shutdown)
	if errors.Is(err, actor.ErrNoProc) {
		return nil
	}
	return err
}

// owner is the gen_server that owns one life of the HTTP server.
type owner struct {
	s *Server

	srv    *http.Server
	cancel context.CancelFunc
	done   chan struct{}
	addr   net.Addr
	once   sync.Once
}

// Init listens and starts serving; a watcher process closes the server if
// the owner dies without running Terminate (it was killed).
func (w *owner) Init(p *actor.Process) error {
	ln, err := net.Listen("tcp", w.s.addr)
	if err != nil {
		return fmt.Errorf("observer: listen: %w", err)
	}
	if cfg := w.s.obs.opts.TLS; cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.done = make(chan struct{})
	w.srv = &http.Server{
		Handler:           w.s.obs.handler(w.done),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
	}
	owner := p.Self()
	if _, err := p.Node().Spawn(&watcher{owner: owner, w: w}); err != nil {
		_ = ln.Close()
		cancel()
		return err
	}
	w.addr = ln.Addr()
	w.s.mu.Lock()
	w.s.current = w.addr
	w.s.mu.Unlock()
	log := w.s.obs.opts.Logger
	go func() {
		if err := w.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("observer server failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	log.Info("observer listening", "addr", ln.Addr().String())
	return nil
}

// watcher closes an owner's server when the owner is gone.
type watcher struct {
	owner actor.PID
	w     *owner
}

func (wt *watcher) Init(p *actor.Process) error {
	p.Monitor(wt.owner)
	return nil
}

func (wt *watcher) Receive(_ *actor.Process, msg any) error {
	if _, ok := msg.(actor.DownMessage); ok {
		wt.w.close()
		return actor.Normal
	}
	return nil
}

// close ends live streams, gives requests in progress a grace period and
// closes the listener. It runs once, from Terminate or the watcher.
func (w *owner) close() {
	w.once.Do(func() {
		close(w.done)
		w.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := w.srv.Shutdown(ctx); err != nil {
			_ = w.srv.Close()
		}
		w.s.mu.Lock()
		if w.s.current == w.addr {
			w.s.current = nil
		}
		w.s.mu.Unlock()
	})
}

// addrRequest asks the owner for its address (a liveness probe for tests
// and tools).
type addrRequest struct{}

func (w *owner) HandleCall(_ *actor.Process, _ actor.From, req any) (any, error) {
	if _, ok := req.(addrRequest); ok {
		return w.s.Addr(), nil
	}
	return fmt.Errorf("observer: unknown request %T", req), nil
}

func (w *owner) Terminate(*actor.Process, error) { w.close() }
