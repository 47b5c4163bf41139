package actor

// ExitMessage is what a process that traps exits receives instead of dying when
// an exit signal reaches it: from a linked process that exited, or from Exit.
type ExitMessage struct {
	From   PID
	Reason error
}

// DownMessage tells a monitoring process that the monitored process is gone.
// Reason is its exit reason, ErrNoProc if it was already gone when the monitor
// was set (ErrNotRegistered for a name nobody held), or ErrNoConnection if its
// node became unreachable. PID is the process that was watched, when known;
// Name is set when the monitor was set on a registered name.
type DownMessage struct {
	Ref    Ref
	PID    PID
	Name   Name
	Reason error
}

// NodeDownMessage tells a process that monitors a node that the connection to
// it is lost.
type NodeDownMessage struct {
	Node string
}

// CallRequest is how a Call arrives at a process. A gen_server (Server) unpacks
// it into HandleCall; a plain process answers it with Reply.
type CallRequest struct {
	From    From
	Request any
}

// CastMessage is how a Cast arrives at a process. A gen_server unpacks it into
// HandleCast; a plain process sees it as it is.
type CastMessage struct {
	Message any
}

// From identifies a pending Call so that it can be answered, now or later and
// from any process, with Reply.
type From struct {
	PID PID // the caller; zero PID with the caller's node when called from outside a process
	Ref Ref // the call's reference; replies are routed by it
}

type signalKind uint8

const (
	sigLink        signalKind = iota + 1 // from wants a link
	sigUnlink                            // from removed its link
	sigLinkExit                          // from, a linked process, exited with reason
	sigExit                              // Exit(to, reason) from another process
	sigMonitor                           // from monitors the target under ref
	sigDemonitor                         // from dropped its monitor ref
	sigDown                              // a monitored process (from) is gone
	sigCall                              // a call: install an alias monitor, then deliver
	sigStop                              // the node is stopping
	sigNodeDown                          // connection to node lost
	sigNodeDownMsg                       // one NodeDownMessage for a node monitor, in order
	sigStopProc                          // StopProcess: install an alias monitor, stop in order
	sigWhereIs                           // Resolve of a name on another node (never reaches a process)
	sigInspect                           // Inspect: install an alias monitor, answer in order
)

// signal is a runtime signal. It acts when it reaches the process (see
// Process.accept); the ones that become messages (DOWN, trapped exits, calls)
// then wait in the mailbox queue in arrival order, with the messages, so that
// everything one process sends another stays in order.
type signal struct {
	// sender is the local process whose code sent the signal (nil for the
	// runtime's own): a signal from a process killed meanwhile is dropped.
	sender *Process
	// session is the distribution session the signal arrived through; one
	// whose node went down since delivers nothing.
	session *Session
	kind    signalKind
	alias   bool // monitor/down whose watcher is a call waiter, not a process
	from    PID
	ref     Ref
	reason  error
	node    string
	msg     any
}
