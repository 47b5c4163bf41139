package actor

import (
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Process is a running process as its own code sees it: the handle passed to
// Init, Receive and the gen_server callbacks. Its methods act on behalf of this
// process (as the sender of messages, the holder of links and monitors) and must
// be called only from the process's own callbacks. Other goroutines talk to a
// process through its PID and the Node's methods.
//
// A process has no goroutine while its mailbox is empty; one is started when a
// message arrives and returns when the mailbox drains. An idle process costs a
// few hundred bytes.
type Process struct {
	// The fields are laid out by who writes them: the first cache lines are
	// read on every message and written rarely; producers write the
	// mailbox fields of the last line on every send. A flag the handling
	// goroutine reads per message (doomed) must not share a line with those.
	node     *Node
	pid      PID
	parent   PID
	behavior Behavior

	// gate holds gateDead once the process is dead, plus a count of the
	// envelopes its code is handing to the distribution layer. A killed
	// process is declared dead while its handler may still run, and nothing
	// its code does after that may be seen: what it sends to a local process
	// is refused under the receiver's lock once the bit is set (the DOWN
	// takes that lock after the bit is set, so it comes after anything
	// accepted), and its links and monitors fire only after its forwards in
	// flight have been queued.
	gate atomic.Int32
	// doomed is set when an exit is due: the process stops once the handler
	// in progress returns, whatever its mailbox holds.
	doomed   atomic.Bool
	trapExit atomic.Bool

	// The rest is guarded by mu: the registered name, the link and monitor
	// tables, the exit state and the mailbox.
	name   string
	links  map[PID]struct{}
	monOut map[Ref]Dest    // monitors this process holds: ref -> target
	monIn  map[Ref]watcher // monitors on this process: ref -> who
	// ext holds the pending calls' monitors, the other nodes the process
	// is tied to (callers.go, ties.go), its node monitors and its timers.
	ext *procExt
	// started is when the process was spawned (Unix nanoseconds) and
	// handled how many mailbox entries it has handled: what Info reports.
	started int64
	handled atomic.Uint64
	// doomReason is the exit that is due (doomed), from a signal or from
	// the process's own handler; once reaped, its final exit reason.
	doomReason error

	mu    sync.Mutex
	queue []any
	spare []any // the last batch's buffer; only the goroutine handling the mailbox touches it
	bound int32
	// pending counts the entries queued plus those of the batch being
	// handled (MailboxLen): settled once per batch for an unbounded mailbox,
	// after each entry for a bounded one.
	pending atomic.Int32
	// users counts, for a bounded mailbox, the messages and call requests
	// waiting or being handled: what the bound limits. It is raised under mu
	// and lowered after each such entry is handled.
	users   atomic.Int32
	running bool // a goroutine is (or is about to be) handling the mailbox
	closed  bool // dead to the world: enqueue and signals fail from here on
	reaped  bool // links and monitors have fired
	// doomTerminate: Terminate runs for the exit that is due.
	doomTerminate bool
}

const gateDead = 1 << 30

type watcher struct {
	pid   PID
	alias bool // a call waiter: the DOWN goes to the alias named by the ref
}

// Self returns the process's PID.
func (p *Process) Self() PID { return p.pid }

// Node returns the node the process runs on.
func (p *Process) Node() *Node { return p.node }

// Parent returns the PID of the process that spawned this one with a link, or
// the zero PID.
func (p *Process) Parent() PID { return p.parent }

// Name returns the process's registered name, or "".
func (p *Process) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name
}

// enter admits one forward by this process's code to the distribution layer;
// it fails once the process is dead. Every enter is paired with a leave.
func (p *Process) enter() bool {
	if p.gate.Add(1)&gateDead != 0 {
		p.leave()
		return false
	}
	return true
}

func (p *Process) leave() {
	if p.gate.Add(-1) == gateDead {
		// The last forward in flight of a process killed meanwhile: its
		// reaping waits for this.
		if v, ok := p.node.reapers.Load(p); ok {
			select {
			case v.(chan struct{}) <- struct{}{}:
			default:
			}
		}
	}
}

// dead reports whether the process has been declared dead.
func (p *Process) dead() bool { return p.gate.Load()&gateDead != 0 }

// enqueue appends a user message to the mailbox and schedules the process if
// it was idle. sender is the local process whose code sends it, if any; a
// dead one's message is refused.
func (p *Process) enqueue(m any, sender *Process) error { return p.enqueueFrom(m, sender, nil) }

// enqueueFrom is enqueue for what a distribution session delivers: nothing
// from a session whose node went down.
func (p *Process) enqueueFrom(m any, sender *Process, sess *Session) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrNoProc
	}
	if sender != nil && sender.dead() {
		p.mu.Unlock()
		return ErrDead
	}
	if sess.stale() {
		p.mu.Unlock()
		return ErrNoConnection
	}
	if p.bound > 0 {
		if p.users.Load() >= p.bound {
			p.mu.Unlock()
			return ErrMailboxFull
		}
		p.users.Add(1)
	}
	p.queue = append(p.queue, m)
	p.pending.Add(1)
	start := !p.running
	p.running = true
	p.mu.Unlock()
	if start {
		go p.run()
	}
	return nil
}

// push queues a runtime entry (a signal that became a message). The caller
// holds mu and has checked that the process is open.
func (p *Process) push(s *signal) {
	p.queue = append(p.queue, s)
	p.pending.Add(1)
}

// run handles the mailbox in batches until it is empty or the process exits.
func (p *Process) run() {
	lingered := false
	for {
		p.mu.Lock()
		// Checked under mu, where signals set it, so that a doom that
		// arrives as the goroutine goes idle is never missed.
		if p.doomed.Load() {
			p.mu.Unlock()
			p.exit()
			return
		}
		if len(p.queue) == 0 && !lingered {
			// Yield once before giving the goroutine up: in an exchange the
			// answer often arrives while we wait, and handling it here costs
			// far less than starting a new goroutine for it.
			p.mu.Unlock()
			lingered = true
			runtime.Gosched()
			continue
		}
		if len(p.queue) == 0 {
			p.running = false
			if cap(p.spare) > 64 {
				// Let a burst's buffers go once the process is idle.
				p.queue, p.spare = nil, nil
			}
			p.mu.Unlock()
			return
		}
		batch := p.queue
		p.queue = p.spare[:0]
		// Counted once per batch, before its first entry is handled (so a
		// reply seen means its call is counted), while the lock's cache
		// line is this goroutine's anyway.
		p.handled.Add(uint64(len(batch)))
		p.mu.Unlock()
		// An unbounded mailbox settles its count once per batch, sparing the
		// producers a cache line that bounces on every message (MailboxLen
		// then counts the current batch until it is done). A bounded one
		// keeps its counts exact after every entry, so a place frees as soon
		// as its message is handled.
		bounded := p.bound > 0
		for i, m := range batch {
			batch[i] = nil
			user := p.handle(m)
			if bounded {
				p.pending.Add(-1)
				if user {
					p.users.Add(-1)
				}
			}
			if p.doomed.Load() {
				p.handled.Add(-uint64(len(batch) - i - 1)) // not handled after all
				p.exit()
				return
			}
		}
		if !bounded {
			p.pending.Add(-int32(len(batch)))
		}
		p.spare = batch[:0]
		lingered = false
	}
}

// handle processes one mailbox entry and reports whether it was a user entry
// (a message or a call request: what a mailbox bound counts).
func (p *Process) handle(m any) bool {
	if s, ok := m.(*signal); ok {
		call := s.kind == sigCall // handleQueued gives a call's signal back
		p.handleQueued(s)
		return call
	}
	p.deliver(m)
	return true
}

// deliver passes a message to the behavior; an error or panic ends the process.
func (p *Process) deliver(m any) {
	if err := p.invoke(m); err != nil {
		p.fail(err, true)
	}
}

// fail makes the process exit with reason once the entry in hand is done,
// running Terminate if terminate is set, unless a signal already made another
// exit due (it arrived first, and decides).
func (p *Process) fail(reason error, terminate bool) {
	p.mu.Lock()
	if p.doomReason == nil {
		p.doomReason, p.doomTerminate = reason, terminate
	}
	p.doomed.Store(true)
	p.mu.Unlock()
}

func (p *Process) invoke(m any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return p.behavior.Receive(p, m)
}

// invokeCall is invoke for a call to a gen_server.
func (p *Process) invokeCall(srv *server, from From, req any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return srv.handleCall(p, from, req)
}

// exit ends the process on its own goroutine with the exit that is due.
// Terminate runs first when due; a process already reaped (killed) just lets
// its goroutine go.
func (p *Process) exit() {
	p.mu.Lock()
	if p.reaped {
		p.mu.Unlock()
		return
	}
	reason, terminate := p.doomReason, p.doomTerminate
	p.mu.Unlock()
	// While the node stops, a process that a signal takes down first (often
	// the exit of a linked process that the same Stop ended) still runs
	// Terminate, as Stop promises.
	terminate = terminate || p.node.stopping.Load()
	if terminate {
		if t, ok := p.behavior.(Terminator); ok {
			p.runTerminate(t, reason)
		}
	}
	p.reap(reason)
}

func (p *Process) runTerminate(t Terminator, reason error) {
	defer func() {
		if r := recover(); r != nil {
			p.node.log.Error("terminate panicked", "pid", p.pid, "panic", r)
		}
	}()
	t.Terminate(p, reason)
}
