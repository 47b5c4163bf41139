// Package actor is gotp's process core: Erlang processes for Go.
//
// A Node is a local runtime with a name and a creation number (its
// incarnation). It holds processes, each named by a PID that is never reused,
// with a mailbox, links, monitors, an optional registered name and timers.
// Several nodes can share one OS process; the remote package connects nodes
// across machines through the Remote hook.
//
// # What it ports
//
// The process model of erts (spawn, send, link, monitor, exit signals,
// trap_exit, register, erlang:send_after) and OTP's gen_server
// (call/cast/reply, handle_info, terminate). Names follow Erlang where Go allows:
//
//	spawn / spawn_link / spawn_monitor   Node.Spawn, Process.Spawn(b, WithLink()), Process.SpawnMonitor
//	Pid ! Msg, {Name, Node} ! Msg        Send, SendName
//	link, unlink, exit/2, trap_exit      Link, Unlink, Exit, WithTrapExit / TrapExit
//	monitor, demonitor, 'DOWN'           Monitor, Demonitor, DownMessage
//	{'EXIT', Pid, Reason}                ExitMessage
//	gen_server:call/cast/reply           Call, Cast, Reply, Server(GenServer)
//	erlang:send_after, cancel_timer      SendAfter, CancelTimer
//	register, whereis                    Register, WhereIs
//	normal, shutdown, kill, killed       Normal, Shutdown, Kill, Killed (error values)
//	noproc, noconnection, timeout        ErrNoProc, ErrNoConnection, ErrTimeout
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
// process nor a registered name behind. A link or monitor requested with the
// spawn is made only after Init succeeds.
//
// # Mailbox policy
//
// Send and Cast never block. A mailbox is unbounded unless the process was
// spawned WithMailboxBound(n); then a Send or Cast that finds n messages waiting
// or being handled returns ErrMailboxFull and the message is not delivered.
// Runtime signals (exit signals, DOWNs, link and monitor bookkeeping, the
// monitor that a Call sets) are never refused, so a full mailbox cannot break
// supervision.
//
// # Guarantees
//
// Everything one process sends another, messages and signals alike, goes
// through one mailbox queue and arrives in the order sent; a DownMessage or
// exit signal never overtakes a message the dead process sent first. A PID of
// an exited process, or of an earlier creation of the node, reaches nothing
// (ErrNoProc). A panic in a callback ends that process with a *PanicError
// reason holding the value and stack; the node carries on. A Call returns the
// reply or an error and never leaves a late reply in a mailbox: the reply goes
// to a per-call alias that the caller removes when it gives up.
//
// # Where it differs from Erlang
//
//   - Go cannot preempt a running handler: exit signals, including Kill, take
//     effect when the handler in progress returns. A process blocked in Call
//     handles nothing until the call ends.
//   - Terminate runs when a process ends itself (handler error or panic), when a
//     trapping gen_server's parent exits, and when the node stops; as in
//     Erlang, not when an exit signal kills a process that does not trap exits.
//   - Node.Stop ends every process with Shutdown in one sweep and runs
//     Terminate; it does not stop supervision trees top-down.
//   - A reply that is an error value becomes Call's error.
package actor
