// Package actor is gotp's process core: Erlang processes for Go.
//
// A Node is a local runtime with a name and a creation number (its
// incarnation). It holds processes, each named by a PID that is never reused,
// with a mailbox, links, monitors, an optional registered name and timers.
// Several nodes can share one OS process; the remote package connects nodes
// across machines through the distribution interface (Attach).
//
// # What it ports
//
// The process model of erts (spawn, send, link, monitor, exit signals,
// trap_exit, register, erlang:send_after) and OTP's gen_server
// (call/cast/reply/stop, handle_info, terminate). Names follow Erlang where Go
// allows:
//
//	spawn / spawn_link / spawn_monitor   Node.Spawn, Process.Spawn(b, WithLink()), Process.SpawnMonitor
//	Pid ! Msg, {Name, Node} ! Msg        Send(PID or Name, msg)
//	link, unlink, exit/2, trap_exit      Link, Unlink, Exit, WithTrapExit / TrapExit
//	monitor, demonitor, 'DOWN'           Monitor, Demonitor, DownMessage
//	monitor(process, {Name, Node})       Monitor(Name{Node, Name})
//	monitor_node, nodedown               MonitorNode, NodeDownMessage
//	{'EXIT', Pid, Reason}                ExitMessage
//	gen_server:call/cast/reply/stop      Call, Cast, Reply, StopProcess, Server(GenServer)
//	erlang:send_after, cancel_timer      SendAfter, CancelTimer
//	sys:get_state                        Node.Inspect (the behaviour implements Inspector)
//	register, whereis                    Register, WhereIs; Resolve for another node
//	normal, shutdown, kill, killed       Normal, Shutdown, Kill, Killed (error values)
//	noproc, noconnection, timeout        ErrNoProc, ErrNoConnection, ErrTimeout
//
// # Addressing
//
// One destination type, Dest, addresses a process: a PID, or a Name (a name
// registered on a node; an empty Node means this node). Send, Cast, Call,
// Monitor, Link, Exit, StopProcess and SendAfter all take one, for local and
// remote processes alike. Errors of these operations are *DestError values
// that name the operation, the destination and the node, and match the
// sentinels with errors.Is: ErrNoProc for any missing process (and
// ErrNotRegistered, which is a kind of ErrNoProc, for a name nobody holds),
// ErrTimeout, ErrNoConnection, ErrMailboxFull. Caller is the one interface
// that packages whose API is calls (supervisor, rafted) take; CallAs returns
// a typed reply.
//
// # How a process runs
//
// A process is a Behavior: Receive is called once per message on the process's
// own goroutine, never concurrently with itself. A process holds no goroutine
// while its mailbox is empty; one is started when a message arrives and it ends
// when the mailbox drains, so an idle process costs a few hundred bytes and a
// node can hold millions. Server adapts a GenServer (HandleCall, plus optional
// Init, HandleCast, HandleInfo, Terminate) to a Behavior.
//
// Init runs before Spawn returns, on the spawning goroutine (like
// proc_lib:start_link): an Init error is Spawn's error and leaves neither a
// process nor a registered name behind. A process killed (or sent any other
// lethal exit signal) while its Init runs is not started either: Spawn returns
// the exit reason. A link or monitor requested with the spawn is made only
// after Init succeeds.
//
// # Signals
//
// A signal acts when it reaches the process, as in erts, not when the mailbox
// gets to it. Link, unlink, monitor and demonitor take effect at once. An exit
// signal that kills acts at once too: Kill (untrappable; errors.Is decides, so
// a reason wrapping Kill is Kill) makes the process dead on the spot, and any
// other lethal reason (a linked process's abnormal exit, Exit with a reason,
// a node stop) ends it as soon as the handler in progress returns, without
// handling the messages still queued. A process that traps exits gets an
// ExitMessage instead, in order with the sender's earlier messages. Reasons
// are compared with errors.Is everywhere: an exit with
// fmt.Errorf("done: %w", Normal) is a normal exit.
//
// A process killed while a handler runs is dead to observers at once: its
// links and monitors fire with Killed, its name is free, Info and Processes no
// longer show it, and messages to it fail with ErrNoProc. The handler's
// goroutine, which Go cannot stop, finishes as a zombie: its sends, calls,
// replies, spawns and timers fail with ErrDead and reach no one, and the
// operations it had already started complete before the DOWN goes out, so
// nothing it does is ever seen after its DOWN. Its callers get its exit reason.
//
// # Mailbox policy
//
// Send and Cast never block. A mailbox is unbounded unless the process was
// spawned WithMailboxBound(n); then a Send, Cast or Call that finds n messages
// and call requests waiting or being handled fails with ErrMailboxFull and is
// not delivered. Runtime signals (exit signals, DOWNs, link and monitor
// bookkeeping, node-down messages) never count and are never refused, so a
// full mailbox cannot break supervision.
//
// # Calls
//
// Call returns the reply or an error and never leaves a late reply in a
// mailbox: the reply goes to a per-call alias that the caller removes when it
// gives up. A ctx without a deadline gets Config.DefaultCallTimeout (5 s, as
// gen_server:call), so a cycle of calls ends; WithoutCallTimeout opts out (as
// infinity does). StopProcess is gen_server:stop/3: the process exits with
// the given reason once it reaches the request, runs Terminate, and
// StopProcess returns when it is gone.
//
// # Guarantees
//
// Everything one process sends another, messages and signals alike, arrives in
// the order sent; a DownMessage or exit signal never overtakes a message the
// dead process sent first. A PID of an exited process, or of an earlier
// creation of the node, reaches nothing (ErrNoProc). A panic in a callback ends
// that process with a *PanicError reason holding the value and stack; the node
// carries on.
//
// # Distribution
//
// Distribution, Endpoint, Envelope and EnvelopeKind are for the layers that
// connect nodes (package remote, and the Erlang bridge), not for
// applications: Node.Attach installs a layer, whose Forward carries envelopes
// to other nodes; the layer hands what arrives to Endpoint.Deliver (which
// validates it first: a malformed envelope is an error, never delivered) and
// reports lost connections with Endpoint.NodeDown. Node.AttachFor installs
// another layer beside it for the nodes a match picks (a node in a gotp
// cluster and an Erlang one at once).
//
// # Where it differs from Erlang
//
//   - Go cannot preempt a running handler: a lethal exit other than Kill takes
//     effect when the handler in progress returns (Erlang's would stop it
//     mid-way). Kill declares the process dead at once but its handler's
//     goroutine runs on, as a zombie whose effects are dropped. A process
//     blocked in Call handles nothing until the call ends.
//   - Terminate runs when a process ends itself (handler error or panic), when a
//     trapping gen_server's parent exits, on StopProcess, and when the node
//     stops; as in Erlang, not when an exit signal kills a process that does
//     not trap exits.
//   - Node.Stop ends every process with Shutdown in one sweep and runs
//     Terminate; it does not stop supervision trees top-down.
//   - A reply that is an error value becomes Call's error.
//   - Register of a name the process already holds fails (ErrAlreadyNamed), as
//     register/2 fails with badarg; so does any second name.
//   - Demonitor guarantees that no DownMessage for the ref is delivered after
//     it returns, as demonitor(Ref, [flush]) does; Unlink guarantees the same
//     for a trapped exit still waiting in the mailbox. An exit signal that
//     already acted (the process is doomed) is not undone.
//   - Link accepts a Name, which Erlang's link/1 does not: the name is
//     resolved (on its own node) and the link made with its holder.
//   - A DownMessage has the watched PID and, for a monitor set on a name, the
//     Name; a dying process's links and monitors fire in a fixed but
//     unspecified order relative to each other.
package actor
