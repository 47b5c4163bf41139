package actor

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var errEmptyName = fmt.Errorf("actor: empty name: %w", ErrMalformed)

// Config configures a Node. The zero value works.
type Config struct {
	// Name is the node's name, e.g. "a@host". Default "nonode@nohost".
	Name string
	// Creation is the node's incarnation number. Zero (the default) picks a
	// random non-zero one, so that a restarted node is told apart from its
	// previous life. Set it only in tests that need a fixed value.
	Creation uint32
	// Logger receives the runtime's logs. Default: discard.
	Logger *slog.Logger
	// DefaultCallTimeout bounds a Call (and StopProcess, Resolve) whose
	// context has no deadline, as gen_server:call's default of 5 s does, so
	// that a cycle of calls ends. Default 5 s; negative means no bound. Such
	// a call fails with ErrTimeout after at least this long and at most 1/64
	// of it more (one tick of the node's single timeout sweeper).
	DefaultCallTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "nonode@nohost"
	}
	for c.Creation == 0 {
		c.Creation = rand.Uint32()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.DefaultCallTimeout == 0 {
		c.DefaultCallTimeout = 5 * time.Second
	}
	return c
}

func (c Config) validate() error {
	for _, r := range c.Name {
		if r == '<' || r == '>' || r == ' ' || r == '{' || r == '}' || r == ',' {
			return fmt.Errorf("actor: node name %q contains %q", c.Name, r)
		}
	}
	return nil
}

// Node is a local runtime: a table of processes, their registered names and
// timers, under one node name and creation. Many nodes can live in one OS
// process; each is independent until a remote layer connects them.
type Node struct {
	started     time.Time
	name        string
	creation    uint32
	log         *slog.Logger
	callTimeout time.Duration // 0: none

	nextID atomic.Uint64
	procs  sync.Map // uint64 -> *Process
	live   atomic.Int64

	// spawnMu orders spawns against Stop: once stopping is set under the write
	// lock no new process can enter the table.
	spawnMu  sync.RWMutex
	stopping atomic.Bool // written under spawnMu
	stopped  chan struct{}
	stopOnce sync.Once

	namesMu sync.Mutex
	names   map[string]*Process

	aliasMu    sync.Mutex
	aliases    map[uint64]*callWaiter
	sweeper    *time.Timer // fails calls past the default timeout (calltimeout.go)
	sweepArmed bool        // the sweeper is set; under aliasMu
	sweepTick  uint64      // the sweeper's ticks so far; under aliasMu
	waiters    sync.Pool   // *callWaiter

	dist   atomic.Pointer[distBox]
	distMu sync.Mutex // serializes changes of dist

	// remotes holds, per other node, the count of its sessions that went
	// down (string -> *remoteNode).
	remotes sync.Map

	// ties holds, per other node, the processes tied to it (ties.go).
	ties sync.Map // string -> *tiedSet

	// callObserver, when set, is told of every call (ObserveCalls).
	callObserver atomic.Pointer[func(time.Duration, error)]

	// retiredHandled sums the mailbox entries handled by processes that
	// have exited (see MessagesHandled).
	retiredHandled atomic.Uint64

	// reapers wake the reaping of a killed process whose forwards were in
	// flight (*Process -> chan struct{}).
	reapers sync.Map
}

// NewNode starts a node.
func NewNode(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Node{
		name:        cfg.Name,
		creation:    cfg.Creation,
		log:         cfg.Logger,
		callTimeout: max(cfg.DefaultCallTimeout, 0),
		stopped:     make(chan struct{}),
		names:       make(map[string]*Process),
		aliases:     make(map[uint64]*callWaiter),
		waiters:     sync.Pool{New: newWaiter},
		started:     time.Now(),
	}, nil
}

// Started returns when the node started.
func (n *Node) Started() time.Time { return n.started }

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Creation returns the node's incarnation number.
func (n *Node) Creation() uint32 { return n.creation }

// Logger returns the node's logger.
func (n *Node) Logger() *slog.Logger { return n.log }

// MakeRef returns a reference unique to this node.
func (n *Node) MakeRef() Ref {
	return Ref{Node: n.name, Creation: n.creation, ID: n.nextID.Add(1)}
}

func (n *Node) isLocal(node string) bool { return node == "" || node == n.name }

// lookup finds a live local process. A PID of another creation of this node
// finds nothing, so it can never reach a newer process.
func (n *Node) lookup(pid PID) *Process {
	if pid.Node != n.name || pid.Creation != n.creation {
		return nil
	}
	v, ok := n.procs.Load(pid.ID)
	if !ok {
		return nil
	}
	// A killed process stays in the table until it is reaped; what is sent
	// to it is refused under its lock (closed), so the hot path need not
	// read its state here.
	return v.(*Process)
}

// Processes lists the PIDs of the node's live processes in spawn order.
func (n *Node) Processes() []PID {
	var pids []PID
	n.procs.Range(func(_, v any) bool {
		if p := v.(*Process); !p.dead() {
			pids = append(pids, p.pid)
		}
		return true
	})
	sort.Slice(pids, func(i, j int) bool { return pids[i].ID < pids[j].ID })
	return pids
}

// MessagesHandled returns how many mailbox entries the node's processes have
// handled since it started, the exited ones' included: sampled twice, it
// gives the node's message rate. It visits every process; it is for
// observers, not for hot paths.
func (n *Node) MessagesHandled() uint64 {
	total := n.retiredHandled.Load()
	n.procs.Range(func(_, v any) bool {
		total += v.(*Process).handled.Load()
		return true
	})
	return total
}

// Register gives pid the name on this node. A process has at most one name and
// a name at most one process; the name is freed when the process exits.
// Registering a name that is taken fails with ErrNameTaken, and naming a
// process that has a name (even the same one) with ErrAlreadyNamed, as
// Erlang's register/2 fails with badarg.
func (n *Node) Register(name string, pid PID) error {
	if name == "" {
		return errEmptyName
	}
	p := n.lookup(pid)
	if p == nil {
		return ErrNoProc
	}
	return n.register(name, p)
}

func (n *Node) register(name string, p *Process) error {
	n.namesMu.Lock()
	defer n.namesMu.Unlock()
	if other, ok := n.names[name]; ok {
		if other == p {
			return fmt.Errorf("actor: %s is %q: %w", p.pid, name, ErrAlreadyNamed)
		}
		return fmt.Errorf("actor: %q: %w", name, ErrNameTaken)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrNoProc
	}
	if p.name != "" {
		return fmt.Errorf("actor: %s is %q: %w", p.pid, p.name, ErrAlreadyNamed)
	}
	p.name = name
	n.names[name] = p
	return nil
}

// Unregister frees the name. It reports whether the name was registered.
func (n *Node) Unregister(name string) bool {
	n.namesMu.Lock()
	defer n.namesMu.Unlock()
	p, ok := n.names[name]
	if !ok {
		return false
	}
	delete(n.names, name)
	p.mu.Lock()
	p.name = ""
	p.mu.Unlock()
	return true
}

// unregisterProcess frees whatever name p holds; called as p exits.
func (n *Node) unregisterProcess(p *Process) {
	n.namesMu.Lock()
	p.mu.Lock()
	name := p.name
	p.name = ""
	p.mu.Unlock()
	if name != "" && n.names[name] == p {
		delete(n.names, name)
	}
	n.namesMu.Unlock()
}

// WhereIs returns the PID registered under name on this node.
func (n *Node) WhereIs(name string) (PID, bool) {
	if p := n.whereIs(name); p != nil {
		return p.pid, true
	}
	return PID{}, false
}

func (n *Node) whereIs(name string) *Process {
	n.namesMu.Lock()
	p := n.names[name]
	n.namesMu.Unlock()
	if p == nil || p.dead() {
		return nil
	}
	return p
}

// Send delivers msg to the process to (a PID or a name, on this node or
// another), from outside any process. It never blocks: a local mailbox is
// unbounded unless the process was spawned with a bound, in which case a full
// mailbox fails with ErrMailboxFull. A destination of another node goes
// through the distribution layer (ErrNoConnection without one). Errors are
// *DestError values naming the destination; check them with errors.Is
// (ErrNoProc, ErrNotRegistered, ErrMailboxFull, ErrNoConnection).
func (n *Node) Send(to Dest, msg any) error { return n.send(nil, PID{}, to, msg) }

// Cast sends a gen_server cast: the process receives CastMessage{msg}.
func (n *Node) Cast(to Dest, msg any) error {
	return n.send(nil, PID{}, to, CastMessage{Message: msg})
}

// Exit sends an exit signal with reason to the destination from outside any
// process; see Process.Exit for its effect.
func (n *Node) Exit(to Dest, reason error) error {
	return n.destError("exit", to, n.signalDest(to, &signal{kind: sigExit, from: n.nodePID(), reason: reason}))
}

// nodePID is the sender of what comes from outside any process: the node
// itself, a PID with id 0 that no process has.
func (n *Node) nodePID() PID { return PID{Node: n.name, Creation: n.creation} }

// send delivers a message from sender (the local process whose code sends
// it, or nil) as from.
func (n *Node) send(sender *Process, from PID, to Dest, msg any) error {
	if pid, ok := to.(PID); ok && pid.Node == n.name {
		// The fast path: a local PID.
		if p := n.lookup(pid); p != nil {
			if err := p.enqueue(msg, sender); err != nil {
				return n.destError("send", pid, err)
			}
			return nil
		}
		return n.destError("send", pid, ErrNoProc)
	}
	return n.destError("send", to, n.sendSlow(sender, from, to, msg))
}

func (n *Node) sendSlow(sender *Process, from PID, to Dest, msg any) error {
	switch to := to.(type) {
	case PID:
		if to.IsZero() {
			return ErrNoProc
		}
		if to.Node == n.name {
			return ErrNoProc // another creation of this node
		}
		return n.forwardFrom(sender, Envelope{Kind: EnvMessage, From: from, To: to, Message: msg})
	case Name:
		if to.Name == "" {
			return ErrNotRegistered
		}
		if !n.isLocal(to.Node) {
			return n.forwardFrom(sender, Envelope{Kind: EnvMessage, From: from, ToName: to, Message: msg})
		}
		p := n.whereIs(to.Name)
		if p == nil {
			return ErrNotRegistered
		}
		return p.enqueue(msg, sender)
	}
	return ErrNoProc
}

// signal delivers a runtime signal to a PID, locally or through the
// distribution layer.
func (n *Node) signal(to PID, s *signal) error {
	if to.IsZero() {
		return ErrNoProc // the zero PID names no process, on no node
	}
	if to.Node != n.name {
		return n.forwardFrom(s.sender, envelopeOf(to, Name{}, s))
	}
	p := n.lookup(to)
	if p == nil {
		return ErrNoProc
	}
	return p.accept(s)
}

// signalDest delivers a runtime signal to a PID or a name.
func (n *Node) signalDest(to Dest, s *signal) error {
	switch to := to.(type) {
	case PID:
		return n.signal(to, s)
	case Name:
		if to.Name == "" {
			return ErrNotRegistered
		}
		if !n.isLocal(to.Node) {
			return n.forwardFrom(s.sender, envelopeOf(PID{}, to, s))
		}
		p := n.whereIs(to.Name)
		if p == nil {
			return ErrNotRegistered
		}
		return p.accept(s)
	}
	return ErrNoProc
}

// Stop ends every process on the node with reason Shutdown and returns when all
// are gone, or with ctx's error if some have not finished by then (a process
// stuck inside a handler that is not killed cannot be interrupted). Links and
// monitors fire as usual. Then it stops the distribution layer, if the layer
// has a Stop method (remote.Remote does). Stop must not be called from a
// process of this node. The node accepts no new processes afterwards.
func (n *Node) Stop(ctx context.Context) error {
	n.spawnMu.Lock()
	first := !n.stopping.Load()
	n.stopping.Store(true)
	n.spawnMu.Unlock()
	if first {
		if n.live.Load() == 0 {
			n.stopOnce.Do(func() { close(n.stopped) })
		}
		n.procs.Range(func(_, v any) bool {
			_ = v.(*Process).accept(&signal{kind: sigStop, reason: Shutdown})
			return true
		})
	}
	select {
	case <-n.stopped:
		n.stopDistribution()
		return nil
	case <-ctx.Done():
		return fmt.Errorf("actor: node %s stop: %d processes left: %w", n.name, n.live.Load(), ctx.Err())
	}
}

// stopDistribution stops the attached distribution layer, if it can be
// stopped, once every process is gone: a stopped node is off the network too.
func (n *Node) stopDistribution() {
	box := n.dist.Load()
	if box == nil {
		return
	}
	layers := []Distribution{box.d}
	for _, r := range box.routes {
		layers = append(layers, r.d)
	}
	for _, d := range layers {
		if s, ok := d.(interface{ Stop() }); ok {
			s.Stop()
		}
	}
}

// processGone is called once per process after it has left the table.
func (n *Node) processGone() {
	if n.live.Add(-1) == 0 {
		n.spawnMu.RLock()
		stopping := n.stopping.Load()
		n.spawnMu.RUnlock()
		if stopping {
			n.stopOnce.Do(func() { close(n.stopped) })
		}
	}
}
