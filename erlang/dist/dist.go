package dist

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/internal/halfopen"
)

// Config configures a node's Erlang distribution.
type Config struct {
	// Cookie is the secret shared with the Erlang nodes (erl -setcookie).
	Cookie string
	// Listen is the address for inbound distribution connections (default
	// "0.0.0.0:0": every interface, a port the system picks).
	Listen string
	// EPMDPort is the port of the port mapper on every host (default 4369,
	// or ERL_EPMD_PORT's value as erl reads it: set it to match). When none
	// answers on this host, the node runs one of its own (EPMDServer) until
	// it stops, so a machine without Erlang needs no epmd.
	EPMDPort int
	// NoEPMD skips registering with the local port mapper (the node can
	// still dial others, but they cannot find it).
	NoEPMD bool
	// TickTime is net_kernel's net_ticktime: a connection that hears nothing
	// for it is lost, and an idle one ticks every quarter of it. Default
	// 60 s, as Erlang's.
	TickTime time.Duration
	// QueueBytes bounds each connection's queue of unsent packets (default
	// 8 MiB). A message past it fails at its sender; a signal past twice it
	// gives the connection up.
	QueueBytes int
	// Logger receives connection events; default the node's.
	Logger *slog.Logger
	// TLS, when set, runs every distribution connection over TLS, as
	// Erlang's -proto_dist inet_tls does: the config's Certificates are this
	// node's, RootCAs verify the nodes it dials (ServerName defaults to the
	// host part of the node name), and ClientAuth and ClientCAs decide which
	// nodes may dial it (tls.RequireAndVerifyClientCert for mutual TLS, as
	// ssl_dist's verify_peer with fail_if_no_peer_cert).
	TLS *tls.Config
	// Nodes, when set, picks the nodes this distribution carries (the
	// Erlang cluster's), beside the node's other distribution (package
	// remote) for the rest: the node joins both. Unset, it carries every
	// other node.
	Nodes func(node string) bool
}

// Errors of the distribution.
var (
	// ErrNodeName: the gotp node's name is not an Erlang node name
	// (name@host).
	ErrNodeName = errors.New("dist: node name is not name@host")
	// ErrUnsupported: the operation has no counterpart across the Erlang
	// distribution (StopProcess and Resolve of an Erlang process, links by
	// name).
	ErrUnsupported = errors.New("dist: not supported across the Erlang distribution")
	// ErrStopped: the distribution is stopped.
	ErrStopped = errors.New("dist: stopped")
	// ErrQueueFull: a connection's queue is at its bound.
	ErrQueueFull = errors.New("dist: send queue full")
)

// Dist is a node's Erlang distribution: Erlang nodes see the gotp node as
// one of theirs, and gotp processes send to, call, link and monitor Erlang
// processes as they would gotp ones on other nodes. It implements
// actor.Distribution; Start attaches it.
type Dist struct {
	node     *actor.Node
	ep       *actor.Endpoint
	cfg      Config
	log      *slog.Logger
	alive    string // the name before '@'
	creation uint32

	l        net.Listener
	halfOpen *halfopen.Set // inbound connections in their handshake
	epmd     net.Conn
	ownEPMD  *EPMDServer // the port mapper this node runs, when none ran
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	conns   map[string]*conn
	rpcs    map[[2]string]RPCFunc
}

var _ actor.Distribution = (*Dist)(nil)

// Start brings up the Erlang distribution for node, whose name must be an
// Erlang node name (name@host: a short name when host has no dots), listens,
// registers with the local port mapper, and attaches to the node.
func Start(node *actor.Node, cfg Config) (*Dist, error) {
	alive, host, ok := strings.Cut(node.Name(), "@")
	if !ok || alive == "" || host == "" {
		return nil, fmt.Errorf("%w: %q", ErrNodeName, node.Name())
	}
	if cfg.Listen == "" {
		cfg.Listen = "0.0.0.0:0"
	}
	if cfg.EPMDPort == 0 {
		cfg.EPMDPort = DefaultEPMDPort
	}
	if cfg.TickTime <= 0 {
		cfg.TickTime = 60 * time.Second
	}
	if cfg.QueueBytes <= 0 {
		cfg.QueueBytes = 8 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = node.Logger()
	}
	d := &Dist{node: node, cfg: cfg, log: cfg.Logger.With("node", node.Name()), alive: alive,
		creation: node.Creation(), conns: make(map[string]*conn), halfOpen: halfopen.New(maxHandshakes)}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		d.cancel()
		return nil, fmt.Errorf("dist: listen: %w", err)
	}
	d.l = l
	if !cfg.NoEPMD {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.EPMDPort))
		ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
		d.epmd, _, err = epmdRegister(ctx, addr, alive, d.Port())
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			// No port mapper runs here: this node runs one of its own, for
			// itself and the Erlang nodes that start on the host after it.
			if d.ownEPMD, err = ListenEPMD(addr); err == nil {
				d.log.Info("no epmd on this host; running a port mapper", "addr", addr)
				d.epmd, _, err = epmdRegister(ctx, addr, alive, d.Port())
			}
		}
		cancel()
		if err != nil {
			if d.ownEPMD != nil {
				d.ownEPMD.Close()
			}
			l.Close()
			d.cancel()
			return nil, err
		}
	}
	if cfg.Nodes != nil {
		d.ep = node.AttachFor(cfg.Nodes, d)
	} else {
		d.ep = node.Attach(d)
	}
	d.wg.Add(1)
	go d.acceptLoop()
	return d, nil
}

// Port returns the distribution port.
func (d *Dist) Port() int { return d.l.Addr().(*net.TCPAddr).Port }

// Stop closes every connection (links and monitors across them fire with
// noconnection), the listener and the port mapper registration.
func (d *Dist) Stop() {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.stopped = true
	var conns []*conn
	for _, c := range d.conns {
		conns = append(conns, c)
	}
	d.mu.Unlock()
	d.ep.Detach()
	_ = d.l.Close()
	if d.epmd != nil {
		_ = d.epmd.Close()
	}
	if d.ownEPMD != nil {
		_ = d.ownEPMD.Close()
	}
	for _, c := range conns {
		c.fail(ErrStopped)
	}
	d.cancel()
	d.wg.Wait()
}

// Connect connects to the Erlang (or gotp) node name, as net_kernel:connect_node
// does, and returns once the connection is up.
func (d *Dist) Connect(ctx context.Context, name string) error {
	c, err := d.connFor(name)
	if err != nil {
		return err
	}
	select {
	case <-c.up:
		return nil
	case <-c.done:
		return c.err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IsConnected reports whether a connection to name is up.
func (d *Dist) IsConnected(name string) bool {
	d.mu.Lock()
	c := d.conns[name]
	d.mu.Unlock()
	if c == nil {
		return false
	}
	select {
	case <-c.up:
		return true
	default:
		return false
	}
}

// connFor returns the connection to name, dialing it if there is none.
func (d *Dist) connFor(name string) (*conn, error) {
	if name == d.node.Name() {
		return nil, fmt.Errorf("dist: connection to self")
	}
	alive, host, ok := strings.Cut(name, "@")
	if !ok || alive == "" || host == "" {
		return nil, fmt.Errorf("%w: %w: %q", actor.ErrNoConnection, ErrNodeName, name)
	}
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", actor.ErrNoConnection, ErrStopped)
	}
	if c := d.conns[name]; c != nil {
		d.mu.Unlock()
		return c, nil
	}
	c := newConn(d, name)
	d.conns[name] = c
	d.wg.Add(1) // under d.mu, which Stop takes before it waits
	d.mu.Unlock()
	go d.dial(c, alive, host)
	return c, nil
}

func (d *Dist) dial(c *conn, alive, host string) {
	defer d.wg.Done()
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	info, err := epmdLookup(ctx, net.JoinHostPort(host, strconv.Itoa(d.cfg.EPMDPort)), alive)
	if err != nil {
		c.fail(err)
		return
	}
	var dialer net.Dialer
	nc, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(info.port)))
	if err != nil {
		c.fail(fmt.Errorf("dist: dial %s: %w", c.peer, err))
		return
	}
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if d.cfg.TLS != nil {
		cfg := d.cfg.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			d.log.Warn("erlang TLS handshake failed", "peer", c.peer, "err", err.Error())
			c.fail(fmt.Errorf("%w: tls: %w", ErrHandshake, err))
			return
		}
		nc = tc
	}
	peer, err := dialHandshake(hsConn{nc, d.cfg.TLS != nil}, d.node.Name(), d.creation, d.cfg.Cookie, c.peer, info.high < 6)
	if err != nil {
		nc.Close()
		d.log.Warn("erlang handshake failed", "peer", c.peer, "err", err.Error())
		c.fail(err)
		return
	}
	_ = nc.SetDeadline(time.Time{})
	c.start(nc, peer)
}

func (d *Dist) acceptLoop() {
	defer d.wg.Done()
	for {
		nc, err := d.l.Accept()
		if err != nil {
			if d.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		// At most maxHandshakes at once: one more closes the oldest, so
		// sockets that connect and say nothing delay no one.
		id := d.halfOpen.Add(nc)
		d.wg.Add(1)
		go d.accept(nc, id)
	}
}

// maxHandshakes bounds the inbound connections in their handshake.
const maxHandshakes = 1024

func (d *Dist) accept(nc net.Conn, id uint64) {
	defer d.wg.Done()
	defer d.halfOpen.Done(id)
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if d.cfg.TLS != nil {
		tc := tls.Server(nc, d.cfg.TLS)
		if err := tc.Handshake(); err != nil {
			nc.Close()
			d.log.Warn("refused erlang connection: TLS", "addr", nc.RemoteAddr().String(), "err", err.Error())
			return
		}
		nc = tc
	}
	var c *conn
	peer, err := acceptHandshake(hsConn{nc, d.cfg.TLS != nil}, d.node.Name(), d.creation, d.cfg.Cookie, func(p peerInfo) error {
		var err error
		c, err = d.admit(p.name)
		return err
	})
	if err != nil {
		nc.Close()
		if c != nil {
			c.fail(err)
		}
		d.log.Warn("refused erlang connection", "peer", peer.name, "addr", nc.RemoteAddr().String(), "err", err.Error())
		return
	}
	_ = nc.SetDeadline(time.Time{})
	c.start(nc, peer)
}

// admit gives an inbound connection from name its place. A node that is
// connected already is refused; when both nodes dial at once the one with
// the greater name keeps its own dial, as dist_util decides.
func (d *Dist) admit(name string) (*conn, error) {
	if name == d.node.Name() || !strings.Contains(name, "@") {
		return nil, fmt.Errorf("%w: peer calls itself %q", ErrHandshake, name)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return nil, ErrStopped
	}
	old := d.conns[name]
	switch {
	case old == nil:
	case old.isUp():
		return nil, fmt.Errorf("%w: %s is connected already", ErrHandshake, name)
	case d.node.Name() > name:
		return nil, fmt.Errorf("%w: simultaneous connect, %s keeps its own", ErrHandshake, d.node.Name())
	}
	c := newConn(d, name)
	if old != nil {
		old.supersede(c)
	}
	d.conns[name] = c
	return c, nil
}

// Forward implements actor.Distribution: what the node hands it for an
// Erlang node goes as that node's control messages.
func (d *Dist) Forward(env actor.Envelope) error {
	dest := env.DestNode()
	c, err := d.connFor(dest)
	if err != nil {
		return err
	}
	return c.forward(env)
}

// drop removes c from the table if it is still current.
func (d *Dist) drop(c *conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conns[c.peer] != c {
		return false
	}
	delete(d.conns, c.peer)
	return true
}
