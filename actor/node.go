package actor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
)

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
	name     string
	creation uint32
	log      *slog.Logger

	nextID atomic.Uint64
	procs  sync.Map // uint64 -> *Process
	live   atomic.Int64

	// spawnMu orders spawns against Stop: once stopping is set under the write
	// lock no new process can enter the table.
	spawnMu  sync.RWMutex
	stopping bool
	stopped  chan struct{}
	stopOnce sync.Once

	namesMu sync.Mutex
	names   map[string]*Process

	aliasMu sync.Mutex
	aliases map[uint64]*callWaiter
	waiters sync.Pool // *callWaiter

	remote atomic.Pointer[remoteBox]
}

// NewNode starts a node.
func NewNode(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Node{
		name:     cfg.Name,
		creation: cfg.Creation,
		log:      cfg.Logger,
		stopped:  make(chan struct{}),
		names:    make(map[string]*Process),
		aliases:  make(map[uint64]*callWaiter),
		waiters:  sync.Pool{New: newWaiter},
	}, nil
}

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
	return v.(*Process)
}

// Processes lists the PIDs of the node's live processes in spawn order.
func (n *Node) Processes() []PID {
	var pids []PID
	n.procs.Range(func(_, v any) bool {
		pids = append(pids, v.(*Process).pid)
		return true
	})
	sort.Slice(pids, func(i, j int) bool { return pids[i].ID < pids[j].ID })
	return pids
}

// Register gives pid the name on this node. A process has at most one name and
// a name at most one process; the name is freed when the process exits.
func (n *Node) Register(name string, pid PID) error {
	if name == "" {
		return errors.New("actor: empty name")
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
			return nil
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
	n.namesMu.Lock()
	p, ok := n.names[name]
	n.namesMu.Unlock()
	if !ok {
		return PID{}, false
	}
	return p.pid, true
}

func (n *Node) whereIs(name string) *Process {
	n.namesMu.Lock()
	p := n.names[name]
	n.namesMu.Unlock()
	return p
}

// Send delivers msg to the process to, from outside any process. It never
// blocks: a local mailbox is unbounded unless the process was spawned with a
// bound, in which case a full mailbox returns ErrMailboxFull. A PID of another
// node goes through the remote layer (ErrNoConnection without one).
func (n *Node) Send(to PID, msg any) error { return n.send(PID{}, to, msg) }

// SendName delivers msg to the process registered under to.Name on to.Node
// (this node when to.Node is empty). An unknown name returns ErrNotRegistered.
func (n *Node) SendName(to Name, msg any) error { return n.sendName(PID{}, to, msg) }

// Cast sends a gen_server cast: the process receives CastMessage{msg}.
func (n *Node) Cast(to PID, msg any) error { return n.send(PID{}, to, CastMessage{Message: msg}) }

// CastName casts to a registered name.
func (n *Node) CastName(to Name, msg any) error {
	return n.sendName(PID{}, to, CastMessage{Message: msg})
}

// Exit sends an exit signal with reason to pid from outside any process; see
// Process.Exit for its effect.
func (n *Node) Exit(pid PID, reason error) error {
	return n.signal(pid, &signal{kind: sigExit, from: PID{Node: n.name, Creation: n.creation}, reason: reason})
}

func (n *Node) send(from, to PID, msg any) error {
	if to.IsZero() {
		return ErrNoProc
	}
	if to.Node != n.name {
		return n.forward(Envelope{Kind: EnvMessage, From: from, To: to, Message: msg})
	}
	p := n.lookup(to)
	if p == nil {
		return ErrNoProc
	}
	return p.enqueue(msg, false)
}

func (n *Node) sendName(from PID, to Name, msg any) error {
	if !n.isLocal(to.Node) {
		return n.forward(Envelope{Kind: EnvMessage, From: from, ToName: to, Message: msg})
	}
	p := n.whereIs(to.Name)
	if p == nil {
		return fmt.Errorf("actor: %q: %w", to.Name, ErrNotRegistered)
	}
	return p.enqueue(msg, false)
}

// signal delivers a runtime signal, locally or through the remote layer.
func (n *Node) signal(to PID, s *signal) error {
	if to.IsZero() {
		return ErrNoProc // the zero PID names no process, on no node
	}
	if to.Node != n.name {
		return n.forward(envelopeOf(to, s))
	}
	p := n.lookup(to)
	if p == nil {
		return ErrNoProc
	}
	return p.enqueue(s, true)
}

// Stop ends every process on the node with reason Shutdown and returns when all
// are gone, or with ctx's error if some have not finished by then (a process
// stuck inside a handler cannot be interrupted). Links and monitors fire as
// usual. Stop must not be called from a process of this node. The node accepts
// no new processes afterwards.
func (n *Node) Stop(ctx context.Context) error {
	n.spawnMu.Lock()
	first := !n.stopping
	n.stopping = true
	n.spawnMu.Unlock()
	if first {
		if n.live.Load() == 0 {
			n.stopOnce.Do(func() { close(n.stopped) })
		}
		n.procs.Range(func(_, v any) bool {
			_ = v.(*Process).enqueue(&signal{kind: sigStop, reason: Shutdown}, true)
			return true
		})
	}
	select {
	case <-n.stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("actor: node %s stop: %d processes left: %w", n.name, n.live.Load(), ctx.Err())
	}
}

// isStopping reports whether Stop has been called.
func (n *Node) isStopping() bool {
	n.spawnMu.RLock()
	defer n.spawnMu.RUnlock()
	return n.stopping
}

// processGone is called once per process after it has left the table.
func (n *Node) processGone() {
	if n.live.Add(-1) == 0 {
		n.spawnMu.RLock()
		stopping := n.stopping
		n.spawnMu.RUnlock()
		if stopping {
			n.stopOnce.Do(func() { close(n.stopped) })
		}
	}
}
