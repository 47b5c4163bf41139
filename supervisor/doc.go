// Package supervisor is OTP's supervisor module on gotp's process core: a
// process that starts child processes, watches them through links and
// restarts them when they exit, as its strategy and their restart types say,
// until they exit too often.
//
// # Using it
//
// A Spec lists the children and how to restart them; Start runs it as a
// top-level supervisor and StartLink as the child of a process (a supervisor
// is itself a process, and can be the child of another supervisor; see
// ChildSupervisor):
//
//	sup, err := supervisor.Start(node, supervisor.Spec{
//		Strategy: supervisor.OneForOne,
//		Children: []supervisor.ChildSpec{
//			supervisor.Worker("cache", func() actor.GenServer { return &cache{} }, actor.WithName("cache")),
//			supervisor.ChildSupervisor("pool", poolSpec),
//		},
//	})
//
// A ChildSpec's Start function is given the supervisor's *actor.Process and
// spawns the child linked to it (p.Spawn(b, actor.WithLink(), ...)); Worker,
// BehaviorWorker and ChildSupervisor write it for the usual cases. Children
// are started in order; if one fails to start, those already started are
// stopped in reverse order and Start returns a *StartError naming it.
//
// StartChild, StartChildArgs, TerminateChild, TerminateChildPID,
// RestartChild, DeleteChild, GetChildSpec, WhichChildren, CountChildren and
// Stop are calls to the supervisor process. They take an actor.Caller: the
// *actor.Node from outside any process, or the calling *actor.Process.
// examples/supervision runs a small tree through crashes and a shutdown.
//
// # What it ports
//
// OTP's supervisor, names in Go case:
//
//	one_for_one, one_for_all, rest_for_one, simple_one_for_one   OneForOne, OneForAll, RestForOne, SimpleOneForOne
//	permanent, transient, temporary                               Permanent, Transient, Temporary
//	shutdown: brutal_kill | Timeout | infinity                    BrutalKill, a time.Duration, Infinity
//	type: worker | supervisor                                     WorkerChild, SupervisorChild
//	intensity, period (default 1 in 5 s)                          Spec.Intensity, Spec.Period (zero means the default)
//	start_child/2 (spec | extra args)                             StartChild, StartChildArgs
//	terminate_child, restart_child, delete_child                  TerminateChild (TerminateChildPID), RestartChild, DeleteChild
//	which_children, count_children, get_childspec                 WhichChildren, CountChildren, GetChildSpec
//	check_childspecs                                              Spec.Validate
//	{error, already_present | {already_started, Pid} | ...}       ErrAlreadyPresent, *AlreadyStartedError, ErrRunning, ErrRestarting, ErrNotFound, ErrSimpleOneForOne
//	exit reason shutdown (reached_max_restart_intensity)          ErrReachedMaxRestartIntensity, which matches actor.Shutdown
//
// The behaviour follows OTP's: a transient child is restarted only after an
// abnormal exit (actor.IsNormalExit says which are normal: normal, shutdown
// and errors wrapping them); a temporary child is never restarted and is
// forgotten when it exits; a restart that would exceed Intensity restarts
// within Period makes the supervisor stop all children in reverse start
// order and exit with ErrReachedMaxRestartIntensity, which its own parent
// sees as a shutdown (a Permanent child supervisor is restarted, a Transient
// one is not). A restart whose start fails counts as a restart and is retried
// through a message to the supervisor itself, so that calls already waiting
// are served in between; meanwhile the child is reported as Restarting. A
// start that returns actor.Ignore leaves a child spec with no process (a
// temporary or SimpleOneForOne child is not kept). Children are stopped as
// OTP's shutdown/1 does: monitor, exit(shutdown), wait up to the child's
// Shutdown for the DOWN, then exit(kill); a SimpleOneForOne supervisor stops
// all its children at once under one timer. When its parent exits, a
// supervisor stops its children and exits with the parent's reason.
//
// # Where it differs from OTP
//
//   - Start functions are Go functions given the supervisor's process, not
//     {M, F, A}; a template's extra arguments are passed to its StartFunc as
//     args. There are no modules lists, code change or hibernation, and no
//     significant children or auto_shutdown.
//   - Restarts are counted with Go's monotonic clock at full resolution, not
//     in whole seconds: a restart counts while it is at most Period old.
//     Intensity 0 means the default; NoRestarts allows none.
//   - A process cannot wait for one message while others queue, so a
//     supervisor stopping children holds their monitors through a short-lived
//     helper process (visible in Node.Processes while it waits).
//   - Go cannot preempt a handler: a child stuck inside a handler is killed
//     (BrutalKill, or the kill after its Shutdown timeout) as in OTP, and is
//     dead to the supervisor and everyone else at once, its name free for
//     the restart; the stuck handler's goroutine finishes later as a zombie
//     whose sends are dropped (see package actor). A child must not call its
//     own supervisor from Init, nor Stop it.
//   - The API's calls wait without the node's default call timeout when ctx
//     has no deadline, as OTP's use infinity; the supervisor is an
//     actor.Dest, so a registered name works as well as a PID.
//   - TerminateChildPID also accepts the PID of a static child. Stop exits
//     with actor.Normal, as gen_server:stop.
//   - WhichChildren lists static children in start order.
package supervisor
